package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gyre-dev/gyre/internal/repl"
)

// The multi-process tests run a three-region topology as three `gyre region
// --config` processes on loopback, as a user would, and drive them with the
// AWS SDK and the gyre CLI.

const (
	mpTable = "acks"
	mpToken = "mp-test-token"
)

var mpRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// mpCluster is a topology file and the region processes running it.
type mpCluster struct {
	t      *testing.T
	config string
	addrs  map[string][2]string // region -> dynamodb, admin
	public map[string]string    // region -> public endpoint
	procs  map[string]*gyreProcess
}

// freeAddrs returns n distinct free loopback addresses. They are free when
// returned; another process may take one before gyre listens on it, which
// startMPCluster tolerates by trying again.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var lns []net.Listener
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// startMPCluster writes a topology of three regions on free ports with the
// global table acks (k S) in all of them and no simulated latency, and
// starts one `gyre region` process per region. If a port was taken in the
// meantime, it tries once more with new ports.
func startMPCluster(t *testing.T) *mpCluster {
	t.Helper()
	return startMPClusterWith(t, false, mpRegions)
}

// startMPClusterWith is startMPCluster with the reference app on or off,
// starting the regions in the order given.
func startMPClusterWith(t *testing.T, app bool, order []string) *mpCluster {
	t.Helper()
	var lastErr error
	for attempt := range 2 {
		c, err := tryMPCluster(t, app, order)
		if err == nil {
			return c
		}
		lastErr = err
		t.Logf("starting the cluster (attempt %d): %v", attempt+1, err)
	}
	t.Fatalf("could not start three gyre region processes: %v", lastErr)
	return nil
}

func tryMPCluster(t *testing.T, app bool, order []string) (*mpCluster, error) {
	dir := t.TempDir()
	// Every address the topology has is a free port, so that nothing
	// collides with the defaults another gyre on this machine uses.
	const perRegion = 5 // dynamodb, admin, public, public_https, control
	ports := freeAddrs(t, perRegion*len(mpRegions)+4)
	c := &mpCluster{t: t, config: filepath.Join(dir, "gyre.yaml"), addrs: map[string][2]string{}, public: map[string]string{}, procs: map[string]*gyreProcess{}}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nadmin_token: %s\nregions:\n", filepath.Join(dir, "data"), mpToken)
	for i, r := range mpRegions {
		p := ports[perRegion*i:]
		c.addrs[r] = [2]string{p[0], p[1]}
		c.public[r] = p[2]
		fmt.Fprintf(&b, "  - name: %s\n    dynamodb: %s\n    admin: %s\n    public: %s\n    public_https: %s\n    control: %s\n", r, p[0], p[1], p[2], p[3], p[4])
	}
	p := ports[perRegion*len(mpRegions):]
	fmt.Fprintf(&b, "routing: {dns: %s, front_door: %s, front_door_https: %s, admin: %s}\n", p[0], p[1], p[2], p[3])
	if !app {
		// The reference app has tests of its own; here it would only add
		// tables.
		b.WriteString("app: {disabled: true}\n")
	}
	fmt.Fprintf(&b, "tables:\n  - name: %s\n    partition_key: {name: k, type: S}\nwan: {disabled: true}\n", mpTable)
	if err := os.WriteFile(c.config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range order {
		p, err := c.start(r)
		if err != nil {
			for _, p := range c.procs {
				p.kill()
			}
			return nil, err
		}
		c.procs[r] = p
	}
	return c, nil
}

// start runs region r of the topology and waits until it serves.
func (c *mpCluster) start(r string) (*gyreProcess, error) {
	p, err := launchGyre(c.t, "region", "--config", c.config, "--name", r)
	if err != nil {
		return nil, err
	}
	if p.addr != c.addrs[r][0] {
		p.kill()
		return nil, fmt.Errorf("region %s serves on %s, want %s", r, p.addr, c.addrs[r][0])
	}
	return p, nil
}

// client returns an SDK client for region r, signing for r, with no
// retries: every acknowledgement is one request's.
func (c *mpCluster) client(r string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           r,
		BaseEndpoint:     aws.String("http://" + c.addrs[r][0]),
		Credentials:      credentials.NewStaticCredentialsProvider("gyre", "gyregyregyre", ""),
		RetryMaxAttempts: 1,
	})
}

// targets returns every region's admin API, as gyre verify and gyre status
// find them.
func (c *mpCluster) targets() []target {
	var out []target
	for _, r := range mpRegions {
		out = append(out, target{region: r, url: "http://" + c.addrs[r][1]})
	}
	return out
}

// gyre runs a gyre command against the cluster's topology in a process of
// its own and returns its combined output and exit code.
func (c *mpCluster) gyre(args ...string) (string, int) {
	c.t.Helper()
	return runGyre(c.t, append(args, "--config", c.config)...)
}

// runGyre runs gyre to completion (at most a minute) and returns its
// combined output and exit code.
func runGyre(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GYRE_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("gyre %v: %v\n%s", args, err, out)
	return "", -1
}

// launchGyre is startGyre that reports a process that exits before serving
// as an error, so the caller can try again (a port taken in the meantime),
// and keeps the end of the process's log to show when a test fails.
func launchGyre(t *testing.T, args ...string) (*gyreProcess, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GYRE_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &gyreProcess{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	var mu sync.Mutex
	var tail []string
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if tail = append(tail, line); len(tail) > 40 {
				tail = tail[1:]
			}
			mu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		<-logged // Wait must not close the pipe before the log is read
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			mu.Lock()
			t.Logf("gyre %v, last log lines:\n%s", args, strings.Join(tail, "\n"))
			mu.Unlock()
		}
	})
	select {
	case p.addr = <-addr:
		return p, nil
	case <-p.done:
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("gyre %v exited before serving: %v\n%s", args, p.err, strings.Join(tail, "\n"))
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, fmt.Errorf("gyre %v did not start serving within 30s", args)
	}
}

// kill SIGKILLs the process and waits until it has exited.
func (p *gyreProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// scanTable reads every item of the table in region r, strongly
// consistent: key -> value of v. A page whose response the SDK failed to
// read is asked for again (a scan changes nothing): aws-sdk-go-v2 can close
// a connection under a response it is still reading (aws/aws-sdk-go-v2
// #2737), and the clients here make one attempt per request.
func scanTable(ctx context.Context, db *dynamodb.Client) (map[string]string, error) {
	items := map[string]string{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(mpTable), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		for try := 1; err != nil && try < 3 && ctx.Err() == nil; try++ {
			out, err = p.NextPage(ctx) // a failed page leaves the paginator where it was
		}
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			k, _ := it["k"].(*types.AttributeValueMemberS)
			v, _ := it["v"].(*types.AttributeValueMemberS)
			if k == nil || v == nil {
				return nil, fmt.Errorf("item without k or v: %v", it)
			}
			items[k.Value] = v.Value
		}
	}
	return items, nil
}

func putKV(ctx context.Context, db *dynamodb.Client, k, v string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(mpTable),
		Item: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberS{Value: k},
			"v": &types.AttributeValueMemberS{Value: v},
		},
	})
	return err
}

// TestMultiProcessWritersAcrossSIGKILL runs every region in its own process
// with writers in all three; kills one region with SIGKILL mid-stream while
// the others keep writing, restarts it on the same configuration, and then
// checks, once replication has drained, that every region holds every write
// any region acknowledged, and that the replicas are identical (in process
// with repl.Check, and with the real gyre verify).
func TestMultiProcessWritersAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gyre processes")
	}
	start := time.Now()
	c := startMPCluster(t)
	t.Logf("three regions serving after %v", time.Since(start).Round(time.Millisecond))
	ctx := context.Background()

	// Writers: writersPer per region, unique keys, each keeping the writes
	// it saw acknowledged. A writer whose region is down keeps trying.
	// Every tenth write goes instead to one of a few keys all writers
	// share, so that regions also disagree and must converge.
	const writersPer = 3
	const victim = "us-west-2"
	const hotKeys = 8
	type writer struct {
		region string
		acked  map[string]string
		hot    map[string][]string // shared key -> values tried
		n      atomic.Int64
	}
	var writers []*writer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for _, r := range mpRegions {
		db := c.client(r)
		for i := range writersPer {
			w := &writer{region: r, acked: map[string]string{}, hot: map[string][]string{}}
			writers = append(writers, w)
			wg.Go(func() {
				for seq := 0; ; seq++ {
					select {
					case <-stop:
						return
					default:
					}
					k := fmt.Sprintf("%s/w%d/%07d", r, i, seq)
					v := fmt.Sprintf("v-%s-%d-%d", r, i, seq)
					if seq%10 == 5 {
						hk := fmt.Sprintf("hot/%d", seq/10%hotKeys)
						w.hot[hk] = append(w.hot[hk], v)
						if err := putKV(ctx, db, hk, v); err != nil {
							failures.Add(1)
						}
						continue
					}
					if err := putKV(ctx, db, k, v); err != nil {
						failures.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					w.acked[k] = v
					w.n.Add(1)
				}
			})
		}
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters()
	acked := func(region string) int64 {
		var n int64
		for _, w := range writers {
			if region == "" || w.region == region {
				n += w.n.Load()
			}
		}
		return n
	}
	// waitAcked waits until every region named has acknowledged more
	// writes than it had, by at least n.
	waitAcked := func(what string, n int64, regions ...string) {
		t.Helper()
		base := map[string]int64{}
		for _, r := range regions {
			base[r] = acked(r)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			done := true
			for _, r := range regions {
				done = done && acked(r)-base[r] >= n
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: fewer than %d writes acknowledged in 15s (acknowledged: %d, failed: %d)", what, n, acked(""), failures.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	waitAcked("before the kill", 300, mpRegions...)
	c.procs[victim].kill()
	killedAt := acked("")
	t.Logf("SIGKILLed %s after %d acknowledged writes", victim, killedAt)
	waitAcked("while "+victim+" is down", 300, "us-east-1", "eu-west-1")
	p, err := c.start(victim)
	if err != nil {
		t.Fatalf("restarting %s: %v", victim, err)
	}
	c.procs[victim] = p
	waitAcked("after the restart", 300, mpRegions...)
	stopWriters()
	want := map[string]string{}
	tried := map[string][]string{} // shared key -> every value written to it
	for _, w := range writers {
		for k, v := range w.acked {
			want[k] = v
		}
		for k, vs := range w.hot {
			tried[k] = append(tried[k], vs...)
		}
	}
	t.Logf("%d writes acknowledged (%d by %s), %d failed while %s was down; writers ran %v",
		len(want), acked(victim), victim, failures.Load(), victim, time.Since(start).Round(time.Millisecond))

	drainStart := time.Now()
	if !waitDrained(ctx, c.targets(), mpToken, 20*time.Second) {
		out, _ := c.gyre("status")
		t.Fatalf("replication did not drain in 20s:\n%s", out)
	}
	t.Logf("replication drained in %v", time.Since(drainStart).Round(time.Millisecond))

	// (a) Every region holds every acknowledged write, from any region,
	// with its value; and every shared key the same value, one that was
	// written to it.
	hotWinner := map[string]string{}
	for _, r := range mpRegions {
		got, err := scanTable(ctx, c.client(r))
		if err != nil {
			t.Fatalf("scanning %s in %s: %v", mpTable, r, err)
		}
		for k, vs := range tried {
			g, ok := got[k]
			switch w, seen := hotWinner[k]; {
			case !ok || !slices.Contains(vs, g):
				t.Errorf("%s: shared key %s = %q, %v; want one of the %d values written to it", r, k, g, ok, len(vs))
			case seen && g != w:
				t.Errorf("shared key %s: %s holds %q, %s holds %q: last writer wins did not converge", k, mpRegions[0], w, r, g)
			}
			hotWinner[k] = g
			delete(got, k)
		}
		var missing, wrong []string
		for k, v := range want {
			switch g, ok := got[k]; {
			case !ok:
				missing = append(missing, k)
			case g != v:
				wrong = append(wrong, fmt.Sprintf("%s=%s (want %s)", k, g, v))
			}
		}
		slices.Sort(missing)
		slices.Sort(wrong)
		if len(missing) > 0 || len(wrong) > 0 {
			t.Errorf("%s: %d acknowledged writes missing, %d with another value; first missing %v, first wrong %v",
				r, len(missing), len(wrong), missing[:min(5, len(missing))], wrong[:min(5, len(wrong))])
		}
		// More than acknowledged is allowed: a write can apply and then
		// its acknowledgement be lost with the process.
		if extra := len(got) - len(want) + len(missing); extra > 0 {
			t.Logf("%s holds %d items, %d beyond the acknowledged writes", r, len(got), extra)
		}
	}

	// (b) The replicas are identical.
	var rt []repl.Target
	for _, tg := range c.targets() {
		rt = append(rt, repl.Target{Region: tg.region, URL: tg.url})
	}
	checks, err := repl.Check(ctx, &http.Client{Timeout: 30 * time.Second}, mpToken, rt)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].Table != mpTable {
		t.Fatalf("repl.Check checked %+v, want the one table %s", checks, mpTable)
	}
	if ch := checks[0]; !ch.Consistent {
		t.Errorf("replicas of %s differ: unreachable %v, %d differing keys, first %v",
			mpTable, ch.Unreachable, len(ch.Differences), ch.Differences[:min(5, len(ch.Differences))])
	}
	out, code := c.gyre("verify", "--wait", "10s")
	if code != 0 || !strings.Contains(out, mpTable+": consistent") {
		t.Errorf("gyre verify exited %d, want 0 and %q:\n%s", code, mpTable+": consistent", out)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// TestVerifyFailsWhenReplicasDiffer partitions two regions with gyre wan,
// writes on one side only, and checks that gyre verify exits non-zero
// naming the keys that differ; after gyre wan heal, it exits zero.
func TestVerifyFailsWhenReplicasDiffer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gyre processes")
	}
	c := startMPCluster(t)
	ctx := context.Background()
	if out, code := c.gyre("wan", "partition", "us-east-1", "eu-west-1"); code != 0 {
		t.Fatalf("gyre wan partition exited %d:\n%s", code, out)
	}
	east := c.client("us-east-1")
	keys := []string{"cut-0", "cut-1", "cut-2"}
	for _, k := range keys {
		if err := putKV(ctx, east, k, "east"); err != nil {
			t.Fatal(err)
		}
	}

	out, code := c.gyre("verify", "--wait", "1s")
	t.Logf("gyre verify while partitioned exited %d:\n%s", code, out)
	if code == 0 {
		t.Fatalf("gyre verify exited 0 while us-east-1 and eu-west-1 were partitioned after writes:\n%s", out)
	}
	for _, want := range []string{
		"replication had not drained",
		mpTable + ": DIFFERENT",
		"gyre: replicas disagree",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("gyre verify output lacks %q:\n%s", want, out)
		}
	}
	// Each key us-east-1 wrote is reported, missing in eu-west-1 only
	// (us-west-2 is still connected to us-east-1, but may not have applied
	// it yet, so only eu-west-1's part is asserted).
	for _, k := range keys {
		line := lineWith(out, fmt.Sprintf(`key {"k":{"S":%q}}:`, k))
		if line == "" {
			t.Errorf("gyre verify does not report key %s:\n%s", k, out)
			continue
		}
		if !strings.Contains(line, "eu-west-1=missing") || strings.Contains(line, "us-east-1=missing") {
			t.Errorf("key %s: %q, want it missing in eu-west-1 and present in us-east-1", k, line)
		}
	}

	if out, code := c.gyre("wan", "heal"); code != 0 {
		t.Fatalf("gyre wan heal exited %d:\n%s", code, out)
	}
	out, code = c.gyre("verify", "--wait", "20s")
	if code != 0 || !strings.Contains(out, mpTable+": consistent") || strings.Contains(out, "had not drained") {
		t.Fatalf("after healing, gyre verify exited %d, want 0, drained and consistent:\n%s", code, out)
	}
}

// lineWith returns the first line of s containing sub, or "".
func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestMultiProcessAppTablesFromThePrimary runs the reference app in three
// gyre region processes, the primary started last: the others wait for its
// tables, then every region serves, and a write in one is read in another.
func TestMultiProcessAppTablesFromThePrimary(t *testing.T) {
	c := startMPClusterWith(t, true, []string{"us-west-2", "eu-west-1"})
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, r := range []string{"us-west-2", "eu-west-1"} {
		// The app soon finds its tables missing and waits for them.
		for deadline := time.Now().Add(10 * time.Second); ; {
			st, body := get("http://" + c.public[r] + "/health")
			if st != http.StatusServiceUnavailable {
				t.Fatalf("%s without its primary: /health %d %s; want 503", r, st, body)
			}
			if strings.Contains(body, "from the primary region us-east-1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s without its primary: /health %s; want it waiting for the primary", r, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	p, err := c.start("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	c.procs["us-east-1"] = p
	deadline := time.Now().Add(30 * time.Second)
	for _, r := range mpRegions {
		for {
			st, body := get("http://" + c.public[r] + "/health")
			if st == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /health %d %s", r, st, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+c.public["eu-west-1"]+"/data/k", strings.NewReader(`{"v":"from dublin"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT in eu-west-1: %v %v", resp, err)
	}
	resp.Body.Close()
	for {
		st, body := get("http://" + c.public["us-west-2"] + "/data/k")
		if st == http.StatusOK && strings.Contains(body, `"region":"eu-west-1"`) && strings.Contains(body, `"servedBy":"us-west-2"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET in us-west-2: %d %s", st, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := c.client("us-west-2").DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("app-items")})
	if err != nil {
		t.Fatal(err)
	}
	var replicas []string
	for _, r := range out.Table.Replicas {
		replicas = append(replicas, aws.ToString(r.RegionName))
	}
	slices.Sort(replicas)
	if !slices.Equal(replicas, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("app-items in us-west-2 lists replicas %v", replicas)
	}
}
