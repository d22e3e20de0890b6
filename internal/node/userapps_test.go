package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/app"
	"github.com/gyre-dev/gyre/internal/frontdoor"
	"github.com/gyre-dev/gyre/internal/pytool"
	"github.com/gyre-dev/gyre/internal/topology"
)

// TestUserApp runs the example Python app, unmodified, as a user's app in
// two of the three regions: it must be reached through the front door by
// path and by host name, and through DNS, only in the regions it runs in;
// be restarted when it dies; and stop with its region.
func TestUserApp(t *testing.T) {
	py := pytool.Find(t, "boto3")
	script, err := filepath.Abs("../../examples/apps/notes/app.py")
	if err != nil {
		t.Fatal(err)
	}
	n := appNode(t, true, func(topo *topology.Topology) {
		topo.Tables = append(topo.Tables, topology.Table{Name: "notes", PartitionKey: topology.KeyAttribute{Name: "id", Type: topology.KeyString}})
		topo.Apps = []topology.UserApp{{
			Name: "notes", Command: py + " " + script, Tables: []string{"notes"},
			Regions: []string{"us-east-1", "eu-west-1"},
		}}
	})
	fd := "http://" + n.Router().FrontDoorAddr().String()
	eventually(t, "the notes app healthy in both its regions", func() bool {
		return n.Router().Monitor().Healthy("notes-us-east-1") && n.Router().Monitor().Healthy("notes-eu-west-1") &&
			call(t, "GET", fd+"/notes/health", "", frontdoor.LocationHeader, "dublin").status == 200
	})

	// By host name: a client in Dublin reaches the copy in eu-west-1.
	created := call(t, "POST", fd+"/notes", `{"text":"hello"}`, "Host", "notes.gyre.test", frontdoor.LocationHeader, "dublin").want(t, 201, "POST /notes by host")
	id, _ := created.body["id"].(string)
	if id == "" || created.body["region"] != "eu-west-1" || created.header.Get(frontdoor.RegionHeader) != "eu-west-1" {
		t.Fatalf("POST by host answered %s from %s", created.raw, created.header.Get(frontdoor.RegionHeader))
	}
	// By path, the prefix removed: a client in Oregon, where the app does
	// not run, reaches the nearest region that runs it.
	eventually(t, "the note replicated to us-east-1", func() bool {
		return call(t, "GET", fd+"/notes/notes/"+id, "", frontdoor.LocationHeader, "oregon").status == 200
	})
	got := call(t, "GET", fd+"/notes/notes/"+id, "", frontdoor.LocationHeader, "oregon")
	if got.body["servedBy"] != "us-east-1" || got.body["text"] != "hello" {
		t.Errorf("GET by path from oregon answered %s", got.raw)
	}
	// The reference app and the DynamoDB API share the public endpoint.
	call(t, "GET", publicURL(n.Region("eu-west-1"))+"/health", "").want(t, 200, "the reference app beside the user's")

	// DNS has a latency record set for the app in its regions only.
	if got := dig(t, n, "notes.gyre.test", "10.3.0.0/24"); !slices.Equal(got, []string{"127.0.3.1"}) {
		t.Errorf("notes.gyre.test for a client in dublin = %v, want [127.0.3.1]", got)
	}
	if got := dig(t, n, "notes.gyre.test", "10.2.0.0/24"); !slices.Equal(got, []string{"127.0.1.1"}) {
		t.Errorf("notes.gyre.test for a client in oregon = %v, want [127.0.1.1] (the app does not run in us-west-2)", got)
	}

	// Killed, it is restarted and serves again.
	eu := n.Region("eu-west-1")
	sup := eu.UserApps()[0]
	pid := sup.Status().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the app restarted", func() bool {
		st := sup.Status()
		return st.Running && st.Restarts >= 1 && st.PID != pid &&
			call(t, "GET", publicURL(eu)+"/notes/notes/"+id, "").status == 200
	})

	// It stops with its region.
	pid = sup.Status().PID
	if err := n.Stop(context.Background(), "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the app's process %d is still there after its region stopped: %v", pid, err)
	}
}

// TestUserAppThatCannotStart checks that an app whose program does not
// exist stops the start with an error naming it and the fix, and leaves
// nothing running (the package's leak check sees to the goroutines).
func TestUserAppThatCannotStart(t *testing.T) {
	topo := topology.Default()
	for i := range topo.Regions {
		r := &topo.Regions[i]
		r.DynamoDB, r.Admin, r.Control = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		r.Public, r.PublicHTTPS = fmt.Sprintf("127.0.%d.1:0", i+1), fmt.Sprintf("127.0.%d.1:0", i+1)
	}
	topo.Routing = topology.Routing{}
	topo.DataDir = t.TempDir()
	topo.Apps = []topology.UserApp{{Name: "ghost", Command: "no-such-program-anywhere --port 1"}}
	topo.EnsureDefaults()
	if err := topo.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := Start(Options{Topology: topo, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		n.Shutdown(context.Background())
		t.Fatal("a node whose app cannot start started")
	}
	for _, want := range []string{`app "ghost"`, "no-such-program-anywhere", "not found", "install it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not mention %q", err, want)
		}
	}
}

// TestFailedRegionStartStopsWhatStarted has a region fail late in its
// start, after its servers are up: none of them may keep running over the
// closed store.
func TestFailedRegionStartStopsWhatStarted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{ln.Addr().String(), pub.Addr().String()}
	_, err = StartRegion(RegionOptions{
		Name: "us-east-1", Listener: ln, PublicListener: pub, DataDir: t.TempDir(),
		Logger: slog.New(slog.DiscardHandler),
		// Refused by the app, which is made after the DynamoDB server
		// has started.
		App: &app.Options{AccessKey: "k", SecretKey: "s"},
	})
	if err == nil {
		t.Fatal("a region with an app missing its tables started")
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the region failed to start", a)
		}
	}
}
