package expr

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// Update is a parsed UpdateExpression, or legacy AttributeUpdates converted
// to the same form. It is immutable and safe for concurrent use.
type Update struct {
	clauses []clause
	usage   Usage
	// legacy marks an Update converted from AttributeUpdates: its ADD also
	// appends lists, and type mismatches get the legacy message.
	legacy bool
}

// The errors DynamoDB gives while applying an update to an item. They carry
// no "Invalid UpdateExpression" prefix.
var (
	errInvalidPath = attr.Invalidf("The document path provided in the update expression is invalid for update")
	errMissingAttr = attr.Invalidf("The provided expression refers to an attribute that does not exist in the item")
	errOperandType = attr.Invalidf("An operand in the update expression has an incorrect data type")
	errLegacyType  = attr.Invalidf("One or more parameter values were invalid: Type mismatch for attribute to update")
)

// ParseUpdate parses an UpdateExpression, resolving its placeholders from p
// (which may be nil), and checks it as DynamoDB does: each clause at most
// once, no two actions on overlapping or conflicting paths, operands of the
// right types where their types are known before the item is read. Errors
// are *attr.ValidationError ("Invalid UpdateExpression: ..."). The caller
// must still refuse updates of key attributes (see Paths) and check unused
// placeholders (see CheckUnused).
func ParseUpdate(s string, p *Params) (*Update, error) {
	ps, err := newParser(updateExpr, s, updateKeywords)
	if err != nil {
		return nil, err
	}
	clauses, err := ps.parseUpdateSyntax()
	if err != nil {
		return nil, err
	}
	u := &Update{clauses: clauses}
	if err := u.check(p, ps.dupClause); err != nil {
		return nil, err
	}
	return u, nil
}

// Usage returns the placeholders the update refers to.
func (u *Update) Usage() Usage { return u.usage }

// Paths returns the paths the update writes, in the order written: the
// targets of SET, REMOVE, ADD and DELETE. Path.Top gives the attribute each
// is in, for refusing updates of key attributes; as a Projection, they
// select what ReturnValues UPDATED_OLD and UPDATED_NEW return.
func (u *Update) Paths() []Path {
	var paths []Path
	for _, c := range u.clauses {
		for _, a := range c.actions {
			paths = append(paths, a.path)
		}
	}
	return paths
}

// String returns the update in canonical expression syntax, clauses in the
// order written; parsing it with the same Params gives the same update.
func (u *Update) String() string {
	var b strings.Builder
	for i, c := range u.clauses {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(clauseNames[c.kind])
		for j, a := range c.actions {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
			a.path.format(&b)
			switch c.kind {
			case clauseSet:
				b.WriteString(" = ")
				a.set.a.format(&b)
				if a.set.arith != 0 {
					if a.set.arith == tokPlus {
						b.WriteString(" + ")
					} else {
						b.WriteString(" - ")
					}
					a.set.b.format(&b)
				}
			case clauseAdd, clauseDelete:
				b.WriteByte(' ')
				a.val.format(&b)
			}
		}
	}
	return b.String()
}

// updateFunctions are the functions an update may use.
var updateFunctions = map[string]bool{"if_not_exists": true, "list_append": true}

// operands calls f on every operand of the update, in the order written.
func (u *Update) operands(f func(*operand)) {
	for _, c := range u.clauses {
		for _, a := range c.actions {
			for _, o := range []*operand{a.set.a, a.set.b, a.val} {
				if o != nil {
					walkOperand(o, f)
				}
			}
		}
	}
}

// check resolves placeholders and reports the first problem in DynamoDB's
// order: reserved words, unknown functions, a repeated clause, undefined
// names, undefined values, overlapping paths, ADD and DELETE operand types,
// then function operands.
func (u *Update) check(p *Params, dupClause string) error {
	const k = updateExpr
	paths := u.Paths()
	if err := u.checkNames(paths); err != nil {
		return err
	}
	if dupClause != "" {
		return invalidf(k, `The "%s" section can only be used once in an update expression;`, dupClause)
	}
	usage, err := u.resolve(paths, p)
	if err != nil {
		return err
	}
	if err := checkOverlaps(k, paths); err != nil {
		return err
	}
	if err := u.checkAddDeleteOperands(); err != nil {
		return err
	}
	if err := u.checkSetOperands(); err != nil {
		return err
	}
	u.usage = usage
	return nil
}

// checkNames reports the first reserved word in the update's paths (the
// targets, then the operands), then the first function that is unknown or
// not allowed in an update.
func (u *Update) checkNames(paths []Path) error {
	const k = updateExpr
	for _, path := range paths {
		if err := checkPathNames(k, path); err != nil {
			return err
		}
	}
	var err error
	u.operands(func(o *operand) {
		if o.kind == opPath && err == nil {
			err = checkPathNames(k, o.path)
		}
	})
	if err != nil {
		return err
	}
	u.operands(func(o *operand) {
		if o.kind != opCall || err != nil {
			return
		}
		if _, known := functionArity[o.fn]; !known {
			err = invalidf(k, "Invalid function name; function: %s", o.fn)
		} else if !updateFunctions[o.fn] {
			err = invalidf(k, "The function is not allowed in an update expression; function: %s", o.fn)
		}
	})
	return err
}

// resolve resolves the placeholders of the update from p and returns the
// ones it uses. It reports the first undefined name (in the targets, then
// the operands) before any undefined value.
func (u *Update) resolve(paths []Path, p *Params) (Usage, error) {
	const k = updateExpr
	var ub usageBuilder
	var err error
	for _, path := range paths {
		if e := resolvePath(k, path, p, &ub); e != nil && err == nil {
			err = e
		}
	}
	u.operands(func(o *operand) {
		if o.kind == opPath {
			if e := resolvePath(k, o.path, p, &ub); e != nil && err == nil {
				err = e
			}
		}
	})
	if err != nil {
		return Usage{}, err
	}
	u.operands(func(o *operand) {
		if o.kind == opValue {
			if e := resolve(k, o, p, &ub); e != nil && err == nil {
				err = e
			}
		}
	})
	if err != nil {
		return Usage{}, err
	}
	return ub.usage(), nil
}

// checkAddDeleteOperands checks the values of ADD and DELETE: a set, or a
// number for ADD.
func (u *Update) checkAddDeleteOperands() error {
	for _, c := range u.clauses {
		if c.kind != clauseAdd && c.kind != clauseDelete {
			continue
		}
		for _, a := range c.actions {
			t := a.val.val.Type
			if t.IsSet() || c.kind == clauseAdd && t == attr.Number {
				continue
			}
			return invalidf(updateExpr, "Incorrect operand type for operator or function; operator: %s, operand type: %s", clauseNames[c.kind], longTypeName(t))
		}
	}
	return nil
}

// checkSetOperands checks the operands of SET actions whose types are
// known before the item is read: the functions' arguments, and the values
// added or subtracted, which must be numbers.
func (u *Update) checkSetOperands() error {
	for _, c := range u.clauses {
		for _, a := range c.actions {
			if c.kind != clauseSet {
				continue
			}
			for _, o := range []*operand{a.set.a, a.set.b} {
				if o != nil {
					if err := checkUpdateFunctions(o, false); err != nil {
						return err
					}
				}
			}
			if a.set.arith != 0 {
				op := "+"
				if a.set.arith == tokMinus {
					op = "-"
				}
				for _, o := range []*operand{a.set.a, a.set.b} {
					if o.kind == opValue && o.val.Type != attr.Number {
						return operandTypeError(updateExpr, op, o.val.Type.String())
					}
				}
			}
		}
	}
	return nil
}

// longTypeName names a type as DynamoDB's ADD and DELETE messages do.
func longTypeName(t attr.Type) string {
	switch t {
	case attr.String:
		return "STRING"
	case attr.Number:
		return "NUMBER"
	case attr.Binary:
		return "BINARY"
	case attr.Bool:
		return "BOOLEAN"
	case attr.Null:
		return "NULL"
	case attr.List:
		return "LIST"
	case attr.Map:
		return "MAP"
	}
	return t.String()
}

// checkUpdateFunctions checks the operands of if_not_exists and list_append
// calls in o, innermost first. nested is whether o is itself an operand of a
// function.
func checkUpdateFunctions(o *operand, nested bool) error {
	const k = updateExpr
	if o.kind != opCall {
		return nil
	}
	for _, a := range o.args {
		if err := checkUpdateFunctions(a, true); err != nil {
			return err
		}
	}
	if err := checkArity(k, o.fn, len(o.args)); err != nil {
		return err
	}
	switch o.fn {
	case "if_not_exists":
		if o.args[0].kind != opPath {
			return invalidf(k, "Operator or function requires a document path; operator or function: %s", o.fn)
		}
	case "list_append":
		if nested {
			return invalidf(k, "The function is not allowed to be used this way in an expression; function: %s", o.fn)
		}
		for _, a := range o.args {
			if a.kind == opValue && a.val.Type != attr.List {
				return operandTypeError(k, o.fn, a.val.Type.String())
			}
		}
	}
	return nil
}

// Applying.

// Apply applies the update to item and returns the new item. item may be nil
// (no item: the update creates one). Apply never modifies item; the result
// shares the values it did not change with item, so neither may be modified
// in place afterwards (see attr.Value). Errors are *attr.ValidationError with
// DynamoDB's messages: a path whose parent is missing or of the wrong type
// ("The document path provided in the update expression is invalid for
// update"), an operand path that is missing ("The provided expression refers
// to an attribute that does not exist in the item"), an operand of the wrong
// type, or a number out of range. The caller must still check the result's
// size and nesting (attr.Item.Validate).
//
// As in DynamoDB, every action reads the item as it was before the update,
// and list indexes refer to the positions before the update: SET on an index
// past the end of a list appends (in index order, when several do), and
// REMOVE of several elements of one list removes the ones originally at
// those indexes.
func (u *Update) Apply(item attr.Item) (attr.Item, error) {
	// Read every operand before writing anything.
	type write struct {
		path Path
		val  attr.Value
	}
	var sets []write
	for _, c := range u.clauses {
		if c.kind != clauseSet {
			continue
		}
		for _, a := range c.actions {
			v, err := evalSetValue(a.set, item)
			if err != nil {
				return nil, err
			}
			sets = append(sets, write{a.path, v})
		}
	}
	removes, err := u.removals(item)
	if err != nil {
		return nil, err
	}

	w := newWriter(item)
	// Sorting by path makes appends to one list happen in index order; the
	// paths are disjoint, so the order changes nothing else.
	slices.SortStableFunc(sets, func(a, b write) int { return a.path.compare(b.path) })
	for _, s := range sets {
		if err := w.set(s.path, s.val); err != nil {
			return nil, err
		}
	}
	for _, c := range u.clauses {
		if c.kind != clauseAdd && c.kind != clauseDelete {
			continue
		}
		for _, a := range c.actions {
			var err error
			if c.kind == clauseAdd {
				err = w.add(a.path, a.val.val, u.legacy)
			} else {
				err = w.delete(a.path, a.val.val, u.legacy)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	for _, path := range removes {
		w.remove(path)
	}
	return w.item, nil
}

// removals returns the REMOVE paths that name an existing element of item,
// last first, so that removing list elements in that order leaves the
// positions of the others as they were. A path whose parent is missing or of
// the wrong type is an error, except that an update of an item that does not
// exist removes nothing and fails on nothing, as in DynamoDB.
func (u *Update) removals(item attr.Item) ([]Path, error) {
	var out []Path
	for _, c := range u.clauses {
		if c.kind != clauseRemove || item == nil {
			continue
		}
		for _, a := range c.actions {
			path := a.path
			if len(path) == 1 {
				if _, ok := item[path[0].Name]; ok {
					out = append(out, path)
				}
				continue
			}
			parent, ok := path[:len(path)-1].Get(item)
			last := path[len(path)-1]
			switch {
			case !ok:
				return nil, errInvalidPath
			case last.IsIndex:
				if parent.Type != attr.List {
					return nil, errInvalidPath
				}
				if last.Index < len(parent.L) {
					out = append(out, path)
				}
			default:
				if parent.Type != attr.Map {
					return nil, errInvalidPath
				}
				if _, ok := parent.M[last.Name]; ok {
					out = append(out, path)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Path) int { return b.compare(a) })
	return out, nil
}

// evalSetValue computes the right-hand side of a SET action from the item as
// it was before the update.
func evalSetValue(s setValue, item attr.Item) (attr.Value, error) {
	a, err := evalTerm(s.a, item)
	if err != nil || s.arith == 0 {
		return a, err
	}
	b, err := evalTerm(s.b, item)
	if err != nil {
		return attr.Value{}, err
	}
	if a.Type != attr.Number || b.Type != attr.Number {
		return attr.Value{}, errOperandType
	}
	var n string
	if s.arith == tokPlus {
		n, err = attr.AddNumbers(a.Str, b.Str)
	} else {
		n, err = attr.SubtractNumbers(a.Str, b.Str)
	}
	if err != nil {
		return attr.Value{}, err
	}
	return attr.Value{Type: attr.Number, Str: n}, nil
}

func evalTerm(o *operand, item attr.Item) (attr.Value, error) {
	switch o.kind {
	case opValue:
		return o.val, nil
	case opPath:
		v, ok := o.path.Get(item)
		if !ok {
			return attr.Value{}, errMissingAttr
		}
		return v, nil
	}
	switch o.fn {
	case "if_not_exists":
		if v, ok := o.args[0].path.Get(item); ok {
			return v, nil
		}
		return evalTerm(o.args[1], item)
	case "list_append":
		a, err := evalTerm(o.args[0], item)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := evalTerm(o.args[1], item)
		if err != nil {
			return attr.Value{}, err
		}
		if a.Type != attr.List || b.Type != attr.List {
			return attr.Value{}, errOperandType
		}
		l := make([]attr.Value, 0, len(a.L)+len(b.L))
		return attr.ListValue(append(append(l, a.L...), b.L...)), nil
	}
	panic("expr: update function " + o.fn + " passed the checks but cannot be evaluated")
}

// writer builds the updated item. It copies the top-level map, and deep
// copies a top-level attribute before it changes anything inside it, so the
// caller's item is never modified.
type writer struct {
	item   attr.Item
	copied map[string]bool
}

func newWriter(item attr.Item) *writer {
	w := &writer{item: maps.Clone(item), copied: make(map[string]bool)}
	if w.item == nil {
		w.item = make(attr.Item)
	}
	return w
}

// parent returns the container holding the last element of path, deep
// copying its top-level attribute first, or errInvalidPath if there is no
// such container of the right type.
func (w *writer) parent(path Path) (*attr.Value, error) {
	name := path[0].Name
	top, ok := w.item[name]
	if !ok {
		return nil, errInvalidPath
	}
	if !w.copied[name] {
		// A clone owns every map and slice inside it, all non-nil.
		top = top.Clone()
		w.item[name] = top
		w.copied[name] = true
	}
	// cur may point at a copy of a Value; writes through it still land in
	// the item, because a copy shares its map and its list's backing array.
	// Only a change of a list's length needs writing back (replaceList).
	cur := &top
	for _, e := range path[1 : len(path)-1] {
		if e.IsIndex {
			if cur.Type != attr.List || e.Index >= len(cur.L) {
				return nil, errInvalidPath
			}
			cur = &cur.L[e.Index]
			continue
		}
		if cur.Type != attr.Map {
			return nil, errInvalidPath
		}
		child, ok := cur.M[e.Name]
		if !ok {
			return nil, errInvalidPath
		}
		cur = &child
	}
	last := path[len(path)-1]
	if last.IsIndex && cur.Type != attr.List || !last.IsIndex && cur.Type != attr.Map {
		return nil, errInvalidPath
	}
	return cur, nil
}

// set writes v at path: replacing an attribute, a map entry or a list
// element, or appending to a list when the index is past its end.
func (w *writer) set(path Path, v attr.Value) error {
	if len(path) == 1 {
		// v may be shared (a :value, or a value of the original item): a
		// later change inside this attribute must copy it first.
		w.item[path[0].Name] = v
		delete(w.copied, path[0].Name)
		return nil
	}
	c, err := w.parent(path)
	if err != nil {
		return err
	}
	last := path[len(path)-1]
	if !last.IsIndex {
		c.M[last.Name] = v
		return nil
	}
	if last.Index < len(c.L) {
		c.L[last.Index] = v
		return nil
	}
	// Appending may move the slice; write the list back where it lives.
	return w.replaceList(path[:len(path)-1], append(c.L, v))
}

// replaceList stores l as the list at path, which exists and is a list.
func (w *writer) replaceList(path Path, l []attr.Value) error {
	if len(path) == 1 {
		w.item[path[0].Name] = attr.ListValue(l)
		return nil
	}
	c, err := w.parent(path)
	if err != nil {
		return err
	}
	last := path[len(path)-1]
	if last.IsIndex {
		c.L[last.Index] = attr.ListValue(l)
	} else {
		c.M[last.Name] = attr.ListValue(l)
	}
	return nil
}

// add is ADD: number addition, set union, and for legacy updates list
// concatenation; a missing attribute becomes the operand.
func (w *writer) add(path Path, v attr.Value, legacy bool) error {
	cur, ok := path.Get(w.item)
	if !ok {
		return w.set(path, v)
	}
	mismatch := errOperandType
	if legacy {
		mismatch = errLegacyType
	}
	switch {
	case cur.Type == attr.Number && v.Type == attr.Number:
		n, err := attr.AddNumbers(cur.Str, v.Str)
		if err != nil {
			return err
		}
		return w.set(path, attr.Value{Type: attr.Number, Str: n})
	case cur.Type.IsSet() && cur.Type == v.Type:
		return w.set(path, setUnion(cur, v))
	case legacy && cur.Type == attr.List && v.Type == attr.List:
		l := make([]attr.Value, 0, len(cur.L)+len(v.L))
		return w.set(path, attr.ListValue(append(append(l, cur.L...), v.L...)))
	}
	return mismatch
}

// delete is DELETE: set difference. Deleting from a missing attribute does
// nothing; deleting the last element removes the attribute, as DynamoDB
// stores no empty sets.
func (w *writer) delete(path Path, v attr.Value, legacy bool) error {
	cur, ok := path.Get(w.item)
	if !ok {
		return nil
	}
	if cur.Type != v.Type {
		if legacy {
			return errLegacyType
		}
		return errOperandType
	}
	d := setDifference(cur, v)
	if setLen(d) == 0 {
		w.remove(path)
		return nil
	}
	return w.set(path, d)
}

// remove deletes the element at path, which must have a valid parent.
func (w *writer) remove(path Path) {
	if len(path) == 1 {
		delete(w.item, path[0].Name)
		return
	}
	c, err := w.parent(path)
	if err != nil {
		return
	}
	last := path[len(path)-1]
	if !last.IsIndex {
		delete(c.M, last.Name)
		return
	}
	if last.Index < len(c.L) {
		c.L = slices.Delete(c.L, last.Index, last.Index+1)
		_ = w.replaceList(path[:len(path)-1], c.L)
	}
}

func setLen(v attr.Value) int {
	if v.Type == attr.BinarySet {
		return len(v.Bins)
	}
	return len(v.Strs)
}

// setKey returns a comparable key for element i of a set.
func setKey(v attr.Value, i int) string {
	if v.Type == attr.BinarySet {
		return string(v.Bins[i])
	}
	return v.Strs[i]
}

// setUnion returns a new set of a's elements followed by those of b that a
// lacks. Number sets hold canonical numbers, so equal numbers are equal
// strings.
func setUnion(a, b attr.Value) attr.Value {
	seen := make(map[string]bool, setLen(a)+setLen(b))
	out := attr.Value{Type: a.Type}
	push := func(v attr.Value, i int) {
		k := setKey(v, i)
		if seen[k] {
			return
		}
		seen[k] = true
		if v.Type == attr.BinarySet {
			out.Bins = append(out.Bins, bytes.Clone(v.Bins[i]))
		} else {
			out.Strs = append(out.Strs, v.Strs[i])
		}
	}
	for i := range setLen(a) {
		push(a, i)
	}
	for i := range setLen(b) {
		push(b, i)
	}
	return out
}

// setDifference returns a new set of a's elements that b lacks.
func setDifference(a, b attr.Value) attr.Value {
	drop := make(map[string]bool, setLen(b))
	for i := range setLen(b) {
		drop[setKey(b, i)] = true
	}
	out := attr.Value{Type: a.Type}
	for i := range setLen(a) {
		if drop[setKey(a, i)] {
			continue
		}
		if a.Type == attr.BinarySet {
			out.Bins = append(out.Bins, bytes.Clone(a.Bins[i]))
		} else {
			out.Strs = append(out.Strs, a.Strs[i])
		}
	}
	return out
}
