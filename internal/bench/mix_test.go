package bench

import (
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mix
		wantErr []string // substrings of the error, all of them
	}{
		{in: "get=50,put=30,query=20", want: Mix{Get: 50, Put: 30, Query: 20}},
		{in: " put = 1 , get=3 ", want: Mix{Put: 1, Get: 3}},
		{in: "query=7", want: Mix{Query: 7}},
		{in: "get=0,put=5,", want: Mix{Put: 5}},
		{in: "", wantErr: []string{"at least one weight must be positive"}},
		{in: "get=0", wantErr: []string{"at least one weight must be positive"}},
		{in: "get", wantErr: []string{`"get" is not op=weight`}},
		{in: "scan=3", wantErr: []string{`unknown op "scan"`}},
		{in: "get=-1", wantErr: []string{"weight of get must be a non-negative integer"}},
		{in: "get=1.5", wantErr: []string{"weight of get must be a non-negative integer"}},
		{in: "get=1,get=2", wantErr: []string{"get appears more than once"}},
		{
			in:      "get=x,scan=1,put",
			wantErr: []string{"weight of get", `unknown op "scan"`, `"put" is not op=weight`},
		},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMix(tc.in)
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("ParseMix(%q) = %+v, %v; want %+v, nil", tc.in, got, err, tc.want)
				}
				again, err := ParseMix(got.String())
				if err != nil || again != got {
					t.Errorf("ParseMix(%q.String() = %q) = %+v, %v; want %+v", tc.in, got.String(), again, err, got)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseMix(%q) = %+v, want an error", tc.in, got)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("ParseMix(%q) error %q, want it to mention %q", tc.in, err, want)
				}
			}
		})
	}
}

func TestMixString(t *testing.T) {
	if got, want := DefaultMix.String(), "get=50,put=30,query=20"; got != want {
		t.Errorf("DefaultMix.String() = %q, want %q", got, want)
	}
	if got, want := (Mix{Query: 2}).String(), "query=2"; got != want {
		t.Errorf("Mix{Query: 2}.String() = %q, want %q", got, want)
	}
}

func TestMixPick(t *testing.T) {
	// Every n in [0, total) once: each op comes up exactly its weight's times.
	m := Mix{Get: 5, Put: 3, Query: 2}
	var got [numOps]int
	for n := range m.total() {
		got[m.pick(n)]++
	}
	if want := [numOps]int{OpPut: 3, OpGet: 5, OpQuery: 2}; got != want {
		t.Errorf("picks over [0,%d) = %v, want %v", m.total(), got, want)
	}
	// A zero weight is never picked, even at the boundaries.
	m = Mix{Put: 1, Query: 1}
	if a, b := m.pick(0), m.pick(1); a != OpPut || b != OpQuery {
		t.Errorf("Mix{Put:1, Query:1}.pick(0), pick(1) = %v, %v; want put, query", a, b)
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{OpPut: "put", OpGet: "get", OpQuery: "query", Op(9): "op(9)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, want)
		}
	}
}
