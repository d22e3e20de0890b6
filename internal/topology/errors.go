package topology

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a topology: where it is and what it is.
type Problem struct {
	// Path is the YAML path of the offending field, e.g.
	// regions[1].dynamodb, or empty for the file as a whole.
	Path string
	// Line is the 1-based line of the field in the file, or of the nearest
	// enclosing field that is in the file (a defaulted field is not). 0 when
	// the topology did not come from a file.
	Line int
	// Msg says what is wrong, e.g. `address "x" is not host:port`.
	Msg string
}

// String formats p as "line 7: regions[1].dynamodb: msg", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	return p.format("")
}

func (p Problem) format(file string) string {
	var b strings.Builder
	switch {
	case file != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", file, p.Line)
	case file != "":
		fmt.Fprintf(&b, "%s: ", file)
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error reports every problem found in a topology at once. Parse, Load,
// Validate and Apply return it (as a *Error); use errors.As to get at the
// problems. It is never empty.
type Error struct {
	// File is the file the topology was read from: set by Load, empty
	// otherwise.
	File string
	// Problems are in the order of the file where lines are known.
	Problems []Problem
}

// Error formats every problem, one per line after the first when there are
// several.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "topology: " + e.Problems[0].format(e.File)
	}
	var b strings.Builder
	b.WriteString("topology: ")
	fmt.Fprintf(&b, "%d problems", len(e.Problems))
	if e.File != "" {
		fmt.Fprintf(&b, " in %s", e.File)
	}
	b.WriteString(":")
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.format(e.File))
	}
	return b.String()
}

// problems collects Problems for one check of a topology.
type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems as an *Error, or nil if there are none.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}
