package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gyre-dev/gyre/internal/tmpfs"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cpuTime is the process's CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDiskFull fills a region's disk (a real 24 MB filesystem) with
// PutItems of 60 KB: once it is nearly full every write fails at once with
// InternalServerError and is applied nowhere, reads go on, /health turns
// unhealthy, nothing spins or floods the log; once space comes back,
// writes resume by themselves with nothing lost or half-applied; and the
// region stops within its grace period while the disk is full.
func TestDiskFull(t *testing.T) {
	dir := tmpfs.Mount(t, 24<<20, false)
	var logs syncBuffer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRegion(RegionOptions{
		Name: "us-east-1", Listener: ln, PublicListener: pub, DataDir: dir + "/data",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			r.Shutdown(context.Background())
		}
	})
	// Every request is bounded: a write that hangs fails the test.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + r.Addr().String()),
		Credentials:      credentials.NewStaticCredentialsProvider(DevAccessKey, DevSecretKey, ""),
		RetryMaxAttempts: 1, HTTPClient: hc,
	})
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("fill"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	value := func() string {
		b := make([]byte, 45000) // 60 KB in base64, which does not compress
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	put := func(k, v string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("fill"),
			Item: map[string]types.AttributeValue{"k": s(k), "v": s(v)}})
		return err
	}
	isInternal := func(err error) bool {
		var ae smithy.APIError
		return errors.As(err, &ae) && ae.ErrorCode() == "InternalServerError"
	}
	acked := map[string]string{}
	var refused []string
	for i := 0; len(refused) < 20; i++ {
		if i > 2000 {
			t.Fatalf("the disk never filled: %d writes acknowledged", len(acked))
		}
		k, v := fmt.Sprintf("k%04d", i), value()
		err := put(k, v)
		switch {
		case err == nil:
			acked[k] = v
		case isInternal(err):
			refused = append(refused, k)
		default:
			t.Fatalf("write %s: %v; want success or InternalServerError", k, err)
		}
	}
	t.Logf("%d writes acknowledged, then %d refused", len(acked), len(refused))

	// Reads go on.
	for k := range acked {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("fill"), Key: map[string]types.AttributeValue{"k": s(k)}})
		if err != nil || out.Item == nil {
			t.Fatalf("reading %s while the disk is full: %v", k, err)
		}
		break
	}
	// /health says why.
	health := func() (int, string) {
		resp, err := hc.Get("http://" + pub.Addr().String() + "/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := health(); st != http.StatusServiceUnavailable || !strings.Contains(body, "space") {
		t.Errorf("/health with the disk full: %d %q; want 503 naming the disk", st, body)
	}
	// Waiting for space costs next to nothing, and is not logged in a loop.
	before := cpuTime(t)
	idleStart := time.Now()
	time.Sleep(2 * time.Second) // a measurement window, not a wait for readiness
	cpu := cpuTime(t) - before
	if cpu > time.Since(idleStart)/4 {
		t.Errorf("the process used %v of CPU in %v while the disk was full", cpu, time.Since(idleStart).Round(time.Millisecond))
	}
	if n := strings.Count(logs.String(), "\n"); n > 60 {
		t.Errorf("%d log lines by now; the storage failure is logged in a loop:\n%.3000s", n, logs.String())
	}

	// Space comes back: writes resume by themselves.
	tmpfs.Remount(t, dir, 96<<20)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := put("after", "space")
		if err == nil {
			break
		}
		if !isInternal(err) || time.Now().After(deadline) {
			t.Fatalf("writing after space came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	acked["after"] = "space"
	if st, body := health(); st != http.StatusOK {
		t.Errorf("/health after space came back: %d %q", st, body)
	}
	// Nothing acknowledged was lost, nothing refused was applied, and the
	// change log holds exactly the acknowledged writes.
	for k, v := range acked {
		if got, ok := getV(t, db, k); !ok || got != v {
			t.Fatalf("acknowledged %s: present %v, value intact %v", k, ok, got == v)
		}
	}
	for _, k := range refused {
		if _, ok := getV(t, db, k); ok {
			t.Errorf("refused write %s was applied", k)
		}
	}
	logged := map[string]bool{}
	entries, err := r.DB().ReadLog(0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, c := range e.Changes {
			logged[c.Key["k"].Str] = true
		}
	}
	for k := range acked {
		if !logged[k] {
			t.Errorf("acknowledged write %s is not in the change log", k)
		}
	}
	for _, k := range refused {
		if logged[k] {
			t.Errorf("refused write %s is in the change log", k)
		}
	}
	if !strings.Contains(logs.String(), "storage failing") || !strings.Contains(logs.String(), "storage recovered") {
		t.Errorf("the log does not tell the failure and the recovery:\n%.3000s", logs.String())
	}

	// Full again, the region stops within its grace period.
	tmpfs.Remount(t, dir, 64<<10+dirUsed(t, dir))
	for i := 0; ; i++ {
		if err := put(fmt.Sprintf("again%d", i), value()); isInternal(err) {
			break
		} else if err != nil || i > 2000 {
			t.Fatalf("filling the disk again: %v", err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- r.Shutdown(context.Background()) }()
	select {
	case <-done:
		stopped = true
	case <-time.After(DefaultShutdownGrace + 5*time.Second):
		t.Fatal("the region did not stop within its grace period with the disk full")
	}
}

// getV reads the v of item k.
func getV(t *testing.T, db *dynamodb.Client, k string) (string, bool) {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("fill"), Key: map[string]types.AttributeValue{"k": s(k)}})
	if err != nil {
		t.Fatalf("reading %s: %v", k, err)
	}
	v, ok := out.Item["v"].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

// dirUsed is the bytes used on dir's filesystem.
func dirUsed(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Blocks-st.Bfree) * st.Bsize
}
