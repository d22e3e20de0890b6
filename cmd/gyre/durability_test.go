package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestMain lets the test binary stand in for the gyre binary: when
// GYRE_TEST_MAIN is set it runs gyre with the remaining arguments, so tests
// can run real gyre processes and kill them.
func TestMain(m *testing.M) {
	if os.Getenv("GYRE_TEST_MAIN") == "1" {
		os.Args = append([]string{"gyre"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gyreProcess is a gyre subprocess.
type gyreProcess struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, set before done is closed
}

var servingRE = regexp.MustCompile(`dynamodb=http://([0-9.:]+)`)

// startGyre runs gyre with args and waits until it logs the address it
// serves on.
func startGyre(t *testing.T, args ...string) *gyreProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GYRE_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &gyreProcess{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-addr:
	case <-p.done:
		t.Fatalf("gyre %v exited before serving: %v", args, p.err)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("gyre %v did not start serving within 30s", args)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *gyreProcess) client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://" + p.addr),
		Credentials:      credentials.NewStaticCredentialsProvider("gyre", "gyregyregyre", ""),
		RetryMaxAttempts: 1,
	})
}

// TestAcknowledgedWritesSurviveSIGKILL kills a region with SIGKILL while
// writers run, restarts it on the same data directory, and checks that every
// write it acknowledged is there.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gyre processes")
	}
	dir := t.TempDir()
	args := []string{"region", "--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", dir}
	p := startGyre(t, args...)
	ctx := context.Background()
	db := p.client()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("acks"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}

	const writers = 16
	var acked sync.Map // key -> value
	var nacked atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%02d-%06d", w, i)
				v := strconv.Itoa(w*1_000_000 + i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
					TableName: aws.String("acks"),
					Item: map[string]types.AttributeValue{
						"k": &types.AttributeValueMemberS{Value: k},
						"v": &types.AttributeValueMemberN{Value: v},
					},
				})
				if err != nil {
					return // the server is gone
				}
				acked.Store(k, v)
				nacked.Add(1)
			}
		}()
	}
	// Kill once a good number of writes are acknowledged, mid-stream.
	deadline := time.Now().Add(60 * time.Second)
	for nacked.Load() < 2000 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes acknowledged in 60s", nacked.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()

	p2 := startGyre(t, args...)
	db2 := p2.client()
	missing, checked := 0, 0
	acked.Range(func(k, v any) bool {
		checked++
		out, err := db2.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String("acks"),
			Key:            map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: k.(string)}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			t.Fatalf("GetItem %s after restart: %v", k, err)
		}
		got, ok := out.Item["v"].(*types.AttributeValueMemberN)
		if !ok || got.Value != v.(string) {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged write %s=%s lost after SIGKILL (got %v)", k, v, out.Item)
			}
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, checked)
	}
	t.Logf("all %d acknowledged writes survived SIGKILL", checked)
}
