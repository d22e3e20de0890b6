package expr

import (
	"strconv"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// The parser turns an expression into an unchecked syntax tree: placeholders
// are not yet resolved and functions not yet checked. DynamoDB reports a
// syntax error before any other problem, so parsing finishes before the
// checks in condition.go, update.go and projection.go run.
//
// Conditions, operands, update actions and projections share one recursive
// descent parser over a slice of tokens. Syntax errors name the offending
// token and the text from the token before it to the token after it, as
// DynamoDB's do.

// operandKind is what an operand is.
type operandKind uint8

const (
	opPath  operandKind = iota + 1 // a document path in the item
	opValue                        // a :value placeholder
	opCall                         // a function call: size, if_not_exists, list_append, ...
)

// operand is a value-producing term: a path, a :value or a function call.
type operand struct {
	kind operandKind
	path Path       // opPath
	ref  string     // opValue: the placeholder, ":v"
	val  attr.Value // opValue: its value, once resolved
	fn   string     // opCall: the function name, case-sensitive
	args []*operand // opCall
}

// condKind is what a condition node is.
type condKind uint8

const (
	cAnd     condKind = iota + 1 // kids[0] AND kids[1]
	cOr                          // kids[0] OR kids[1]
	cNot                         // NOT kids[0]
	cCmp                         // args[0] cmp args[1]
	cBetween                     // args[0] BETWEEN args[1] AND args[2]
	cIn                          // args[0] IN (args[1:]...)
	cFunc                        // fn(args...): attribute_exists, begins_with, ...
)

// condNode is one node of a condition's tree.
type condNode struct {
	kind condKind
	cmp  tokKind // cCmp: tokEq, tokNe, tokLt, tokLe, tokGt or tokGe
	kids []*condNode
	args []*operand
	fn   string
}

var cmpNames = map[tokKind]string{tokEq: "=", tokNe: "<>", tokLt: "<", tokLe: "<=", tokGt: ">", tokGe: ">="}

// parser holds the state of one parse.
type parser struct {
	kind     exprKind
	src      string
	toks     []token
	pos      int
	keywords []string // identifiers the grammar reserves; never attribute names

	redundant bool   // saw a parenthesis pair directly inside another
	dupClause string // the first update clause keyword seen twice
}

var (
	conditionKeywords = []string{"AND", "OR", "NOT", "BETWEEN", "IN"}
	updateKeywords    = []string{"SET", "REMOVE", "ADD", "DELETE"}
)

// newParser lexes src. It reports the errors DynamoDB gives before parsing:
// an empty expression and one over the size limit.
func newParser(k exprKind, src string, keywords []string) (*parser, error) {
	if src == "" {
		return nil, invalidf(k, "The expression can not be empty;")
	}
	if len(src) > MaxExpressionSize {
		return nil, invalidf(k, "Expression size has exceeded the maximum allowed size; expression size: %d", len(src))
	}
	return &parser{kind: k, src: src, toks: lex(src, make([]token, 0, len(src)/3+2)), keywords: keywords}, nil
}

func (p *parser) tok() token             { return p.toks[p.pos] }
func (p *parser) text(t token) string    { return p.src[t.start:t.end] }
func (p *parser) at(kind tokKind) bool   { return p.toks[p.pos].kind == kind }
func (p *parser) peekKind(n int) tokKind { return p.toks[min(p.pos+n, len(p.toks)-1)].kind }

// atKeyword reports whether the current token is the keyword kw.
func (p *parser) atKeyword(kw string) bool {
	t := p.tok()
	return t.kind == tokIdent && isKeyword(p.text(t), kw)
}

func (p *parser) isKeyword(text string) bool {
	for _, kw := range p.keywords {
		if isKeyword(text, kw) {
			return true
		}
	}
	return false
}

// syntaxError reports the current token as DynamoDB does: Syntax error;
// token: "x", near: "<previous token> x <next token>" (as the source wrote
// them).
func (p *parser) syntaxError() error {
	i := p.pos
	t := p.toks[i]
	text := "<EOF>"
	if t.kind != tokEOF {
		text = p.text(t)
	}
	start, end := t.start, t.end
	if i > 0 {
		start = p.toks[i-1].start
	}
	if i+1 < len(p.toks) && p.toks[i+1].kind != tokEOF {
		end = p.toks[i+1].end
	}
	return invalidf(p.kind, `Syntax error; token: "%s", near: "%s"`, text, p.src[start:end])
}

func (p *parser) expect(kind tokKind) error {
	if !p.at(kind) {
		return p.syntaxError()
	}
	p.pos++
	return nil
}

func (p *parser) expectEOF() error { return p.expect(tokEOF) }

// parsePath parses name ( "." name | "[" digits "]" )*, where a name is an
// identifier that is not a keyword of the grammar, or a #placeholder.
func (p *parser) parsePath() (Path, error) {
	var path Path
	elem, err := p.parseName()
	if err != nil {
		return nil, err
	}
	path = append(path, elem)
	for {
		switch p.tok().kind {
		case tokDot:
			p.pos++
			elem, err := p.parseName()
			if err != nil {
				return nil, err
			}
			path = append(path, elem)
		case tokLBracket:
			p.pos++
			t := p.tok()
			if t.kind != tokNumber {
				return nil, p.syntaxError()
			}
			n, err := strconv.Atoi(p.text(t))
			if err != nil {
				return nil, p.syntaxError()
			}
			p.pos++
			if err := p.expect(tokRBracket); err != nil {
				return nil, err
			}
			path = append(path, PathElem{Index: n, IsIndex: true})
		default:
			return path, nil
		}
	}
}

func (p *parser) parseName() (PathElem, error) {
	t := p.tok()
	switch {
	case t.kind == tokName:
		p.pos++
		return PathElem{Placeholder: p.text(t)}, nil
	case t.kind == tokIdent && !p.isKeyword(p.text(t)):
		p.pos++
		return PathElem{Name: p.text(t)}, nil
	}
	return PathElem{}, p.syntaxError()
}

// parseCall parses name "(" operand ("," operand)* ")"; the current token is
// the name and the next is "(". arg parses one argument.
func (p *parser) parseCall(arg func() (*operand, error)) (*operand, error) {
	o := &operand{kind: opCall, fn: p.text(p.tok())}
	p.pos += 2
	for {
		a, err := arg()
		if err != nil {
			return nil, err
		}
		o.args = append(o.args, a)
		if !p.at(tokComma) {
			break
		}
		p.pos++
	}
	return o, p.expect(tokRParen)
}

// Conditions.
//
//	or      = and { OR and }
//	and     = not { AND not }
//	not     = NOT not | cmp
//	cmp     = primary [ comparator operand | BETWEEN operand AND operand
//	                  | IN "(" operand { "," operand } ")" ]
//	primary = "(" or ")" | operand
//	operand = "(" operand ")" | :value | name "(" operand {"," operand} ")" | path
//
// A parenthesized primary may hold a condition or an operand, so the parser
// carries both kinds in a pnode and checks the kind where the grammar needs
// one: a comparator needs operands, AND/OR/NOT need conditions. A function
// call may be either; the checks decide whether it is used rightly.

// pnode is a parsed condition or operand.
type pnode struct {
	cond   *condNode
	op     *operand
	parens int // parenthesis pairs directly around it
}

// parseConditionSyntax parses a whole condition expression.
func (p *parser) parseConditionSyntax() (*condNode, error) {
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if err := p.needCond(&n); err != nil {
		return nil, err
	}
	if err := p.expectEOF(); err != nil {
		return nil, err
	}
	return n.cond, nil
}

// needCond turns n into a condition where the grammar needs one: a function
// call becomes a function condition; any other operand is a syntax error on
// the token after it.
func (p *parser) needCond(n *pnode) error {
	switch {
	case n.cond != nil:
		return nil
	case n.op.kind == opCall:
		n.cond = &condNode{kind: cFunc, fn: n.op.fn, args: n.op.args}
		n.op = nil
		return nil
	}
	return p.syntaxError()
}

func (p *parser) parseOr() (pnode, error) {
	left, err := p.parseAnd()
	if err != nil {
		return pnode{}, err
	}
	for p.atKeyword("OR") {
		if err := p.needCond(&left); err != nil {
			return pnode{}, err
		}
		p.pos++
		right, err := p.parseAnd()
		if err != nil {
			return pnode{}, err
		}
		if err := p.needCond(&right); err != nil {
			return pnode{}, err
		}
		left = pnode{cond: &condNode{kind: cOr, kids: []*condNode{left.cond, right.cond}}}
	}
	return left, nil
}

func (p *parser) parseAnd() (pnode, error) {
	left, err := p.parseNot()
	if err != nil {
		return pnode{}, err
	}
	for p.atKeyword("AND") {
		if err := p.needCond(&left); err != nil {
			return pnode{}, err
		}
		p.pos++
		right, err := p.parseNot()
		if err != nil {
			return pnode{}, err
		}
		if err := p.needCond(&right); err != nil {
			return pnode{}, err
		}
		left = pnode{cond: &condNode{kind: cAnd, kids: []*condNode{left.cond, right.cond}}}
	}
	return left, nil
}

func (p *parser) parseNot() (pnode, error) {
	if !p.atKeyword("NOT") {
		return p.parseCmp()
	}
	p.pos++
	n, err := p.parseNot()
	if err != nil {
		return pnode{}, err
	}
	if err := p.needCond(&n); err != nil {
		return pnode{}, err
	}
	return pnode{cond: &condNode{kind: cNot, kids: []*condNode{n.cond}}}, nil
}

func (p *parser) parseCmp() (pnode, error) {
	n, err := p.parsePrimary()
	if err != nil {
		return pnode{}, err
	}
	t := p.tok()
	switch {
	case t.kind >= tokEq && t.kind <= tokGe:
		if n.op == nil {
			return pnode{}, p.syntaxError()
		}
		p.pos++
		r, err := p.parseOperand()
		if err != nil {
			return pnode{}, err
		}
		return pnode{cond: &condNode{kind: cCmp, cmp: t.kind, args: []*operand{n.op, r}}}, nil
	case p.atKeyword("BETWEEN"):
		if n.op == nil {
			return pnode{}, p.syntaxError()
		}
		p.pos++
		lo, err := p.parseOperand()
		if err != nil {
			return pnode{}, err
		}
		if !p.atKeyword("AND") {
			return pnode{}, p.syntaxError()
		}
		p.pos++
		hi, err := p.parseOperand()
		if err != nil {
			return pnode{}, err
		}
		return pnode{cond: &condNode{kind: cBetween, args: []*operand{n.op, lo, hi}}}, nil
	case p.atKeyword("IN"):
		if n.op == nil {
			return pnode{}, p.syntaxError()
		}
		p.pos++
		if err := p.expect(tokLParen); err != nil {
			return pnode{}, err
		}
		args := []*operand{n.op}
		for {
			a, err := p.parseOperand()
			if err != nil {
				return pnode{}, err
			}
			args = append(args, a)
			if !p.at(tokComma) {
				break
			}
			p.pos++
		}
		if err := p.expect(tokRParen); err != nil {
			return pnode{}, err
		}
		return pnode{cond: &condNode{kind: cIn, args: args}}, nil
	}
	return n, nil
}

// parsePrimary parses a parenthesized condition or operand, or an operand.
func (p *parser) parsePrimary() (pnode, error) {
	if !p.at(tokLParen) {
		o, err := p.parseOperandNoParens()
		return pnode{op: o}, err
	}
	p.pos++
	inner, err := p.parseOr()
	if err != nil {
		return pnode{}, err
	}
	if err := p.expect(tokRParen); err != nil {
		return pnode{}, err
	}
	if inner.parens > 0 {
		p.redundant = true
	}
	inner.parens++
	return inner, nil
}

// parseOperand parses an operand of a condition, in any number of
// parentheses.
func (p *parser) parseOperand() (*operand, error) {
	if !p.at(tokLParen) {
		return p.parseOperandNoParens()
	}
	depth := 0
	for p.at(tokLParen) {
		p.pos++
		depth++
	}
	if depth > 1 {
		p.redundant = true
	}
	o, err := p.parseOperandNoParens()
	if err != nil {
		return nil, err
	}
	for ; depth > 0; depth-- {
		if err := p.expect(tokRParen); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (p *parser) parseOperandNoParens() (*operand, error) {
	t := p.tok()
	switch t.kind {
	case tokValue:
		p.pos++
		return &operand{kind: opValue, ref: p.text(t)}, nil
	case tokIdent:
		if p.isKeyword(p.text(t)) {
			return nil, p.syntaxError()
		}
		if p.peekKind(1) == tokLParen {
			return p.parseCall(p.parseOperand)
		}
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &operand{kind: opPath, path: path}, nil
}

// Update expressions.
//
//	update  = clause { clause }
//	clause  = SET set {"," set} | REMOVE path {"," path}
//	        | ADD path :value {"," path :value} | DELETE path :value {"," ...}
//	set     = path "=" value
//	value   = "(" value ")" | term [ ("+" | "-") term ]
//	term    = "(" term ")" | :value | name "(" term {"," term} ")" | path
//
// Clause keywords are case-insensitive; each may appear once, which the
// checks enforce so that a repeated clause is reported after any reserved
// word or unknown function, as DynamoDB orders its messages.

// clauseKind is an update clause.
type clauseKind uint8

const (
	clauseSet clauseKind = iota
	clauseRemove
	clauseAdd
	clauseDelete
)

var clauseNames = [...]string{"SET", "REMOVE", "ADD", "DELETE"}

// setValue is the right-hand side of a SET action: a, or a + b, or a - b.
type setValue struct {
	arith tokKind // 0, tokPlus or tokMinus
	a, b  *operand
}

// action is one action of an update clause.
type action struct {
	path Path
	set  setValue // SET
	val  *operand // ADD, DELETE: the :value
}

type clause struct {
	kind    clauseKind
	actions []action
}

func (p *parser) parseUpdateSyntax() ([]clause, error) {
	var clauses []clause
	var seen [len(clauseNames)]bool
	for {
		t := p.tok()
		if t.kind != tokIdent {
			return nil, p.syntaxError()
		}
		kind := clauseKind(len(clauseNames))
		for i, name := range clauseNames {
			if isKeyword(p.text(t), name) {
				kind = clauseKind(i)
			}
		}
		if int(kind) == len(clauseNames) {
			return nil, p.syntaxError()
		}
		if seen[kind] && p.dupClause == "" {
			p.dupClause = clauseNames[kind]
		}
		seen[kind] = true
		p.pos++
		c := clause{kind: kind}
		for {
			path, err := p.parsePath()
			if err != nil {
				return nil, err
			}
			a := action{path: path}
			switch kind {
			case clauseSet:
				if err := p.expect(tokEq); err != nil {
					return nil, err
				}
				if a.set, err = p.parseSetValue(); err != nil {
					return nil, err
				}
			case clauseAdd, clauseDelete:
				v := p.tok()
				if v.kind != tokValue {
					return nil, p.syntaxError()
				}
				p.pos++
				a.val = &operand{kind: opValue, ref: p.text(v)}
			}
			c.actions = append(c.actions, a)
			if !p.at(tokComma) {
				break
			}
			p.pos++
		}
		clauses = append(clauses, c)
		if p.at(tokEOF) {
			return clauses, nil
		}
	}
}

func (p *parser) parseSetValue() (setValue, error) {
	var a *operand
	if p.at(tokLParen) {
		p.pos++
		inner, err := p.parseSetValue()
		if err != nil {
			return setValue{}, err
		}
		if err := p.expect(tokRParen); err != nil {
			return setValue{}, err
		}
		if inner.arith != 0 {
			return inner, nil
		}
		a = inner.a
	} else {
		var err error
		if a, err = p.parseTerm(); err != nil {
			return setValue{}, err
		}
	}
	t := p.tok()
	if t.kind != tokPlus && t.kind != tokMinus {
		return setValue{a: a}, nil
	}
	p.pos++
	b, err := p.parseTerm()
	if err != nil {
		return setValue{}, err
	}
	return setValue{arith: t.kind, a: a, b: b}, nil
}

// parseTerm parses an operand of an update expression.
func (p *parser) parseTerm() (*operand, error) {
	if p.at(tokLParen) {
		p.pos++
		o, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return o, p.expect(tokRParen)
	}
	t := p.tok()
	switch t.kind {
	case tokValue:
		p.pos++
		return &operand{kind: opValue, ref: p.text(t)}, nil
	case tokIdent:
		if !p.isKeyword(p.text(t)) && p.peekKind(1) == tokLParen {
			return p.parseCall(p.parseTerm)
		}
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &operand{kind: opPath, path: path}, nil
}

// Projections: path { "," path }.
func (p *parser) parseProjectionSyntax() (Projection, error) {
	var proj Projection
	for {
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		proj = append(proj, path)
		if !p.at(tokComma) {
			break
		}
		p.pos++
	}
	return proj, p.expectEOF()
}

// Printing. Operands and conditions print in a canonical form that parses
// back to the same tree.

func (o *operand) format(b *strings.Builder) {
	switch o.kind {
	case opPath:
		o.path.format(b)
	case opValue:
		b.WriteString(o.ref)
	case opCall:
		b.WriteString(o.fn)
		b.WriteByte('(')
		for i, a := range o.args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.format(b)
		}
		b.WriteByte(')')
	}
}

func (n *condNode) format(b *strings.Builder) {
	child := func(c *condNode, parens bool) {
		if parens {
			b.WriteByte('(')
		}
		c.format(b)
		if parens {
			b.WriteByte(')')
		}
	}
	switch n.kind {
	case cOr:
		child(n.kids[0], false)
		b.WriteString(" OR ")
		child(n.kids[1], n.kids[1].kind == cOr)
	case cAnd:
		child(n.kids[0], n.kids[0].kind == cOr)
		b.WriteString(" AND ")
		child(n.kids[1], n.kids[1].kind == cOr || n.kids[1].kind == cAnd)
	case cNot:
		b.WriteString("NOT ")
		child(n.kids[0], n.kids[0].kind == cOr || n.kids[0].kind == cAnd)
	case cCmp:
		n.args[0].format(b)
		b.WriteByte(' ')
		b.WriteString(cmpNames[n.cmp])
		b.WriteByte(' ')
		n.args[1].format(b)
	case cBetween:
		n.args[0].format(b)
		b.WriteString(" BETWEEN ")
		n.args[1].format(b)
		b.WriteString(" AND ")
		n.args[2].format(b)
	case cIn:
		n.args[0].format(b)
		b.WriteString(" IN (")
		for i, a := range n.args[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			a.format(b)
		}
		b.WriteByte(')')
	case cFunc:
		(&operand{kind: opCall, fn: n.fn, args: n.args}).format(b)
	}
}
