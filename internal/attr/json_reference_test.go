package attr

import "encoding/json"

// wireValue and unmarshalReference are the straightforward decoder, built on
// encoding/json, that the one-pass decoder must agree with.
type wireValue struct {
	S    *string              `json:"S"`
	N    *string              `json:"N"`
	B    *[]byte              `json:"B"`
	BOOL *bool                `json:"BOOL"`
	NULL *bool                `json:"NULL"`
	M    *map[string]refValue `json:"M"`
	L    *[]refValue          `json:"L"`
	SS   *[]string            `json:"SS"`
	NS   *[]string            `json:"NS"`
	BS   *[][]byte            `json:"BS"`
}

type refValue struct{ Value }

func (r *refValue) UnmarshalJSON(data []byte) error { return unmarshalReference(&r.Value, data) }

func unmarshalReference(v *Value, data []byte) error {
	var w wireValue
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*v = Value{}
	n := 0
	if w.S != nil {
		n++
		v.Type, v.Str = String, *w.S
	}
	if w.N != nil {
		n++
		c, err := ParseNumber(*w.N)
		if err != nil {
			return err
		}
		v.Type, v.Str = Number, c
	}
	if w.B != nil {
		n++
		v.Type, v.Bin = Binary, *w.B
		if v.Bin == nil {
			v.Bin = []byte{}
		}
	}
	if w.BOOL != nil {
		n++
		v.Type, v.Bool = Bool, *w.BOOL
	}
	if w.NULL != nil {
		n++
		if !*w.NULL {
			return Invalidf("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
		v.Type = Null
	}
	if w.M != nil {
		n++
		v.Type, v.M = Map, map[string]Value{}
		for k, e := range *w.M {
			v.M[k] = e.Value
		}
	}
	if w.L != nil {
		n++
		v.Type, v.L = List, []Value{}
		for _, e := range *w.L {
			v.L = append(v.L, e.Value)
		}
	}
	if w.SS != nil {
		n++
		v.Type, v.Strs = StringSet, *w.SS
	}
	if w.NS != nil {
		n++
		v.Type, v.Strs = NumberSet, *w.NS
	}
	if w.BS != nil {
		n++
		v.Type, v.Bins = BinarySet, *w.BS
	}
	switch {
	case n == 0:
		return Invalidf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case n > 1:
		return Invalidf("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	if v.Type.IsSet() {
		return v.checkSet()
	}
	return nil
}
