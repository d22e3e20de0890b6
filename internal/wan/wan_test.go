package wan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultLatencyTable(t *testing.T) {
	// The regions the brief requires, and a few figures to keep the table
	// honest: half the public round-trip times.
	required := []string{
		"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
		"eu-north-1", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ap-south-1",
		"sa-east-1", "ca-central-1",
	}
	for _, a := range required {
		for _, b := range required {
			d, ok := DefaultLatency(a, b)
			if !ok {
				t.Fatalf("DefaultLatency(%s, %s) is unknown", a, b)
			}
			back, _ := DefaultLatency(b, a)
			if d != back {
				t.Errorf("DefaultLatency(%s, %s) = %v but the reverse is %v", a, b, d, back)
			}
			if a == b && d != 0 {
				t.Errorf("DefaultLatency(%s, %s) = %v, want 0", a, b, d)
			}
			if a != b && (d < 2*time.Millisecond || d > 250*time.Millisecond) {
				t.Errorf("DefaultLatency(%s, %s) = %v, not a plausible one-way latency", a, b, d)
			}
		}
	}
	for _, tc := range []struct {
		a, b     string
		min, max time.Duration // one-way
	}{
		{"us-east-1", "us-west-2", 29 * time.Millisecond, 34 * time.Millisecond},
		{"us-east-1", "eu-west-1", 32 * time.Millisecond, 37 * time.Millisecond},
		{"us-west-2", "eu-west-1", 58 * time.Millisecond, 65 * time.Millisecond},
		{"us-east-1", "us-east-2", 5 * time.Millisecond, 8 * time.Millisecond},
	} {
		d, _ := DefaultLatency(tc.a, tc.b)
		if d < tc.min || d > tc.max {
			t.Errorf("DefaultLatency(%s, %s) = %v, want %v..%v", tc.a, tc.b, d, tc.min, tc.max)
		}
	}
	if _, ok := DefaultLatency("us-east-1", "moon-1"); ok {
		t.Error("DefaultLatency knows moon-1")
	}
}

func TestDefaults(t *testing.T) {
	w, err := New(Options{
		Regions: []string{"us-east-1", "eu-west-1", "ap-southeast-1", "lab"},
		Links:   []Link{{From: "lab", To: "eu-west-1", Latency: 7 * time.Millisecond, Jitter: time.Millisecond, OneWay: true}},
		Logger:  quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Snapshot()
	for _, tc := range []struct {
		from, to        string
		latency, jitter time.Duration
	}{
		{"us-east-1", "eu-west-1", 35 * time.Millisecond, 1750 * time.Microsecond},    // table, 5%
		{"eu-west-1", "us-east-1", 35 * time.Millisecond, 1750 * time.Microsecond},    // symmetric
		{"us-east-1", "ap-southeast-1", 106 * time.Millisecond, 5 * time.Millisecond}, // jitter capped
		{"us-east-1", "lab", 50 * time.Millisecond, 2500 * time.Microsecond},          // fallback
		{"lab", "eu-west-1", 7 * time.Millisecond, time.Millisecond},                  // Options.Links, one way
		{"eu-west-1", "lab", 50 * time.Millisecond, 2500 * time.Microsecond},          // the other way untouched
	} {
		l, ok := s.Link(tc.from, tc.to)
		if !ok {
			t.Fatalf("no link %s -> %s in the snapshot", tc.from, tc.to)
		}
		if time.Duration(l.Latency) != tc.latency || time.Duration(l.Jitter) != tc.jitter || !l.Up {
			t.Errorf("%s -> %s = %v/%v up=%v, want %v/%v up", tc.from, tc.to, l.Latency, l.Jitter, l.Up, tc.latency, tc.jitter)
		}
	}
	if got, want := len(s.Links), 4*3; got != want {
		t.Errorf("snapshot has %d links, want %d (no self-links)", got, want)
	}

	w, err = New(Options{Regions: []string{"x", "y"}, FallbackLatency: 9 * time.Millisecond, JitterFraction: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s = w.Snapshot()
	if l, _ := s.Link("x", "y"); l.Latency != Duration(9*time.Millisecond) || l.Jitter != 0 {
		t.Errorf("with FallbackLatency 9ms and no jitter, x -> y = %v/%v", l.Latency, l.Jitter)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Options{
		Regions: []string{"a", "b", "a", ""},
		Links: []Link{
			{From: "a", To: "zz"},
			{From: "b", To: "b"},
			{From: "a", To: "b", Latency: -time.Millisecond},
		},
		JitterFraction: 2,
		MaxJitter:      -1,
		BufferSize:     -1,
	})
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	for _, want := range []string{
		`names "a" twice`, "empty name", `unknown region "zz"`, "no link to itself",
		"must not be negative", "JitterFraction 2", "MaxJitter -1ns", "BufferSize -1",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New's error does not mention %q:\n%v", want, err)
		}
	}
	for _, sentinel := range []error{ErrUnknownRegion, ErrSameRegion, ErrInvalidDelay} {
		if !errors.Is(err, sentinel) {
			t.Errorf("New's error does not match %v", sentinel)
		}
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New accepted no regions")
	}
}

func TestBadArguments(t *testing.T) {
	w := newTestWAN(t)
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"Set unknown", func() error { return w.Set("a", "zz", time.Millisecond, 0) }, ErrUnknownRegion},
		{"Set same", func() error { return w.Set("a", "a", time.Millisecond, 0) }, ErrSameRegion},
		{"Set negative latency", func() error { return w.Set("a", "b", -time.Millisecond, 0) }, ErrInvalidDelay},
		{"Set negative jitter", func() error { return w.Set("a", "b", 0, -1) }, ErrInvalidDelay},
		{"SetOneWay unknown", func() error { return w.SetOneWay("zz", "a", 0, 0) }, ErrUnknownRegion},
		{"Partition unknown", func() error { return w.Partition("zz", "a") }, ErrUnknownRegion},
		{"Partition same", func() error { return w.Partition("b", "b") }, ErrSameRegion},
		{"Isolate unknown", func() error { return w.Isolate("zz") }, ErrUnknownRegion},
		{"HealLink unknown", func() error { return w.HealLink("a", "zz") }, ErrUnknownRegion},
		{"Rejoin unknown", func() error { return w.Rejoin("zz") }, ErrUnknownRegion},
		{"Dial unknown from", func() error { _, err := w.DialContext(t.Context(), "zz", "a", "tcp", "127.0.0.1:1"); return err }, ErrUnknownRegion},
		{"Dial unknown to", func() error { _, err := w.DialContext(t.Context(), "a", "zz", "tcp", "127.0.0.1:1"); return err }, ErrUnknownRegion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if g := w.Snapshot().Generation; g != 1 {
		t.Errorf("failed calls changed the network: generation %d, want 1", g)
	}
}

func TestPartitionIsolateHealState(t *testing.T) {
	w := newTestWAN(t)
	down := func() []string {
		var ds []string
		for _, l := range w.Snapshot().Links {
			if !l.Up {
				ds = append(ds, fmt.Sprintf("%s>%s p=%v i=%v", l.From, l.To, l.Partitioned, l.Isolated))
			}
		}
		return ds
	}
	check := func(step string, want ...string) {
		t.Helper()
		if got := down(); !slices.Equal(got, want) {
			t.Errorf("%s: links down\n got %q\nwant %q", step, got, want)
		}
	}

	must(t, w.Partition("a", "c"))
	check("partition a c", "a>c p=true i=false", "c>a p=true i=false")

	must(t, w.Isolate("b"))
	check("isolate b", "a>b p=false i=true", "a>c p=true i=false", "b>a p=false i=true",
		"b>c p=false i=true", "b>d p=false i=true", "c>a p=true i=false", "c>b p=false i=true", "d>b p=false i=true")

	must(t, w.Partition("a", "b"))
	must(t, w.Rejoin("b"))
	check("partition a b, rejoin b", "a>b p=true i=false", "a>c p=true i=false", "b>a p=true i=false", "c>a p=true i=false")

	must(t, w.HealLink("c", "a"))
	check("heal link c a", "a>b p=true i=false", "b>a p=true i=false")

	s := w.Snapshot()
	if !slices.Equal(s.Partitions, [][2]string{{"a", "b"}}) || len(s.Isolated) != 0 {
		t.Errorf("snapshot partitions %v isolated %v, want [[a b]] []", s.Partitions, s.Isolated)
	}

	must(t, w.Isolate("d"))
	w.Heal()
	check("heal")
}

func TestSetHealReset(t *testing.T) {
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: 10 * time.Millisecond})
	must(t, w.Set("a", "b", 40*time.Millisecond, 4*time.Millisecond))
	must(t, w.SetOneWay("c", "d", 7*time.Millisecond, 0))
	must(t, w.Partition("a", "b"))
	w.Heal()
	s := w.Snapshot()
	for _, tc := range []struct {
		from, to string
		latency  time.Duration
	}{{"a", "b", 40 * time.Millisecond}, {"b", "a", 40 * time.Millisecond}, {"c", "d", 7 * time.Millisecond}, {"d", "c", 0}} {
		if l, _ := s.Link(tc.from, tc.to); time.Duration(l.Latency) != tc.latency || !l.Up {
			t.Errorf("after Heal %s -> %s = %v up=%v, want %v up", tc.from, tc.to, l.Latency, l.Up, tc.latency)
		}
	}
	must(t, w.Isolate("a"))
	w.Reset()
	s = w.Snapshot()
	if l, _ := s.Link("a", "b"); l.Latency != Duration(10*time.Millisecond) || l.Jitter != 0 || !l.Up {
		t.Errorf("after Reset a -> b = %+v, want the Options.Links setting, up", l)
	}
	if l, _ := s.Link("c", "d"); l.Latency != 0 {
		t.Errorf("after Reset c -> d = %v, want 0", l.Latency)
	}
}

func TestChanged(t *testing.T) {
	w := newTestWAN(t)
	g0 := w.Snapshot().Generation
	ch := w.Changed()
	select {
	case <-ch:
		t.Fatal("Changed is closed before any change")
	default:
	}
	must(t, w.Partition("a", "b"))
	select {
	case <-ch:
	default:
		t.Fatal("Changed was not closed by Partition")
	}
	g1 := w.Snapshot().Generation
	if g1 <= g0 {
		t.Errorf("generation went from %d to %d across Partition", g0, g1)
	}
	ch = w.Changed()
	must(t, w.Partition("b", "a")) // already partitioned
	select {
	case <-ch:
		t.Error("a Partition that changed nothing closed Changed")
	default:
	}
	if g := w.Snapshot().Generation; g != g1 {
		t.Errorf("a Partition that changed nothing moved the generation from %d to %d", g1, g)
	}
}

func TestSnapshotJSON(t *testing.T) {
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: 31 * time.Millisecond, Jitter: 1500 * time.Microsecond})
	b, err := json.Marshal(w.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"generation", "regions", "partitions", "isolated", "links"} {
		if _, ok := m[k]; !ok {
			t.Errorf("snapshot JSON has no %q: %s", k, b)
		}
	}
	if m["partitions"] == nil || m["isolated"] == nil {
		t.Errorf("empty lists must be [], not null: %s", b)
	}
	link := m["links"].([]any)[0].(map[string]any)
	want := map[string]any{
		"from": "a", "to": "b", "latency": "31ms", "jitter": "1.5ms",
		"up": true, "partitioned": false, "isolated": false,
	}
	if fmt.Sprint(link) != fmt.Sprint(want) {
		t.Errorf("first link is %v, want %v", link, want)
	}

	must(t, w.Partition("a", "b"))
	must(t, w.Isolate("d"))
	var s Snapshot
	b, _ = json.Marshal(w.Snapshot())
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("a snapshot does not read back: %v", err)
	}
	if !slices.Equal(s.Partitions, [][2]string{{"a", "b"}}) || !slices.Equal(s.Isolated, []string{"d"}) {
		t.Errorf("read back partitions %v isolated %v", s.Partitions, s.Isolated)
	}
	if l, _ := s.Link("b", "a"); l.Up || !l.Partitioned || l.Latency != Duration(31*time.Millisecond) {
		t.Errorf("read back b -> a = %+v", l)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
