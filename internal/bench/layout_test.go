package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

func TestLayout(t *testing.T) {
	l := newLayout(&Options{Keys: 1005, SortKeys: 10, ItemSize: 100})
	if l.partitions != 100 || l.items() != 1000 {
		t.Errorf("1005 keys of 10 sort keys: %d partitions, %d items; want 100, 1000", l.partitions, l.items())
	}
	for _, c := range []struct {
		i      int
		pk     string
		sk     int
		wantPS int // payload size
	}{
		// overhead: "pk"+9 + "sk"+number + "v": 2+9+2+2+1 = 16 for one- and two-digit sort keys.
		{0, "p00000000", 0, 84},
		{9, "p00000000", 9, 84},
		{10, "p00000001", 0, 84},
		{999, "p00000099", 9, 84},
	} {
		pk, sk := l.key(c.i)
		if pk != c.pk || sk != c.sk {
			t.Errorf("key(%d) = %s, %d; want %s, %d", c.i, pk, sk, c.pk, c.sk)
		}
		item := l.item(c.i, make([]byte, 100))
		if got := len(item[attrPayload].(*types.AttributeValueMemberB).Value); got != c.wantPS {
			t.Errorf("item(%d) payload = %d bytes, want %d", c.i, got, c.wantPS)
		}
		if got := item[attrSK].(*types.AttributeValueMemberN).Value; got != fmt.Sprint(c.sk) {
			t.Errorf("item(%d) sk = %q, want %d", c.i, got, c.sk)
		}
	}
	for _, c := range []struct{ itemSize, sk, want int }{
		{1024, 5, 1008},
		{1024, 123, 1007}, // three digits: 3 bytes of number
		{32, 0, 16},
		{10, 0, 1}, // never below one byte
	} {
		if got := payloadSize(c.itemSize, "p00000000", c.sk); got != c.want {
			t.Errorf("payloadSize(%d, sk=%d) = %d, want %d", c.itemSize, c.sk, got, c.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	// 4 workers at 400/s: each every 10ms, offset by 2.5ms from the next.
	for w, wantFirst := range []time.Duration{0, 2500 * time.Microsecond, 5 * time.Millisecond, 7500 * time.Microsecond} {
		s := newSchedule(start, 400, 4, w)
		if got := s.at(0).Sub(start); got != wantFirst {
			t.Errorf("worker %d first request at +%v, want +%v", w, got, wantFirst)
		}
		if got := s.at(100).Sub(s.at(0)); got != time.Second {
			t.Errorf("worker %d: 100 requests span %v, want 1s", w, got)
		}
	}
	// A rate that does not divide a second evenly does not drift.
	s := newSchedule(start, 3, 1, 0)
	if got := s.at(3_000_000).Sub(start); got != 1_000_000*time.Second {
		t.Errorf("3/s: request 3e6 at +%v, want +1e6s", got)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&smithy.OperationError{Err: &types.ProvisionedThroughputExceededException{}}, "ProvisionedThroughputExceededException"},
		{fmt.Errorf("x: %w", &smithy.GenericAPIError{Code: "ThrottlingException"}), "ThrottlingException"},
		{&url.Error{Op: "Post", URL: "http://x", Err: timeoutErr{}}, "Timeout"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "Timeout"},
		{&url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, "ConnectionError"},
		{fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), "ConnectionError"},
		{errors.New("something else"), "ClientError"},
	} {
		if got := errorCode(c.err); got != c.want {
			t.Errorf("errorCode(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
