package attr

// MaxItemSize is DynamoDB's limit on an item's size: 400 KB.
const MaxItemSize = 400 * 1024

// Size returns the value's share of an item's size as DynamoDB computes it
// (not counting the attribute's name).
func (v Value) Size() int {
	switch v.Type {
	case String:
		return len(v.Str)
	case Number:
		return numberSize(v.Str)
	case Binary:
		return len(v.Bin)
	case Bool, Null:
		return 1
	case Map:
		n := 3
		for k, e := range v.M {
			n += len(k) + e.Size() + 1
		}
		return n
	case List:
		n := 3
		for _, e := range v.L {
			n += e.Size() + 1
		}
		return n
	case StringSet:
		n := 0
		for _, s := range v.Strs {
			n += len(s)
		}
		return n
	case NumberSet:
		n := 0
		for _, s := range v.Strs {
			n += numberSize(s)
		}
		return n
	case BinarySet:
		n := 0
		for _, b := range v.Bins {
			n += len(b)
		}
		return n
	}
	return 0
}

// Size returns the item's size as DynamoDB computes it: the lengths of its
// attribute names plus the sizes of their values.
func (it Item) Size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.Size()
	}
	return n
}
