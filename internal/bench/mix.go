package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// Op is one of the operations a workload issues.
type Op int

// The operations, in the order reports list them.
const (
	OpPut Op = iota
	OpGet
	OpQuery
	numOps
)

var opNames = [numOps]string{OpPut: "put", OpGet: "get", OpQuery: "query"}

// String returns the operation's name as flags and reports spell it: "put",
// "get" or "query".
func (o Op) String() string {
	if o < 0 || o >= numOps {
		return "op(" + strconv.Itoa(int(o)) + ")"
	}
	return opNames[o]
}

func parseOp(s string) (Op, bool) {
	for o, name := range opNames {
		if s == name {
			return Op(o), true
		}
	}
	return 0, false
}

// Mix weighs the operations of a mixed workload: each operation is picked
// with probability weight/sum. Weights need not add up to 100.
type Mix struct {
	Get, Put, Query int
}

// DefaultMix is the mixed workload's mix when Options.Mix is zero: a
// read-heavy 50% get, 30% put, 20% query.
var DefaultMix = Mix{Get: 50, Put: 30, Query: 20}

// ParseMix parses a mix written as comma-separated op=weight pairs, for
// example "get=50,put=30,query=20". Ops are get, put and query; each may
// appear once; weights are non-negative integers; omitted ops weigh 0 and at
// least one weight must be positive. Every problem is reported at once.
func ParseMix(s string) (Mix, error) {
	var m Mix
	var problems []string
	seen := map[Op]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, ok := strings.Cut(part, "=")
		if !ok {
			problems = append(problems, fmt.Sprintf("%q is not op=weight", part))
			continue
		}
		op, ok := parseOp(strings.TrimSpace(name))
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown op %q (want get, put or query)", name))
			continue
		}
		if seen[op] {
			problems = append(problems, fmt.Sprintf("%s appears more than once", op))
			continue
		}
		seen[op] = true
		w, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || w < 0 {
			problems = append(problems, fmt.Sprintf("weight of %s must be a non-negative integer, got %q", op, weight))
			continue
		}
		m.set(op, w)
	}
	if len(problems) == 0 && m.total() == 0 {
		problems = append(problems, "at least one weight must be positive")
	}
	if len(problems) > 0 {
		return Mix{}, fmt.Errorf("bench: invalid mix %q: %s", s, strings.Join(problems, "; "))
	}
	return m, nil
}

// String formats the mix as ParseMix reads it, leaving out zero weights.
func (m Mix) String() string {
	var parts []string
	for _, op := range []Op{OpGet, OpPut, OpQuery} {
		if w := m.weight(op); w > 0 {
			parts = append(parts, op.String()+"="+strconv.Itoa(w))
		}
	}
	return strings.Join(parts, ",")
}

func (m Mix) weight(op Op) int {
	switch op {
	case OpPut:
		return m.Put
	case OpGet:
		return m.Get
	case OpQuery:
		return m.Query
	}
	return 0
}

func (m *Mix) set(op Op, w int) {
	switch op {
	case OpPut:
		m.Put = w
	case OpGet:
		m.Get = w
	case OpQuery:
		m.Query = w
	}
}

func (m Mix) total() int { return m.Put + m.Get + m.Query }

// pick maps n, uniform in [0, m.total()), to an operation: the first
// m.Put values are puts, the next m.Get gets, the rest queries.
func (m Mix) pick(n int) Op {
	if n < m.Put {
		return OpPut
	}
	if n < m.Put+m.Get {
		return OpGet
	}
	return OpQuery
}
