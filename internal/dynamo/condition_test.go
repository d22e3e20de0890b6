package dynamo

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/expr"
	"github.com/gyre-dev/gyre/internal/store"
)

// TestPreconditionCheck checks that a condition that does not hold is a
// *conditionFailure, told apart by its type, carrying the current item only
// when ReturnValuesOnConditionCheckFailure asks for it, and answered as the
// DynamoDB error it unwraps to.
func TestPreconditionCheck(t *testing.T) {
	cur := attr.Item{"pk": attr.S("a"), "n": attr.N("1")}
	for _, tc := range []struct {
		name      string
		cond      string // "": none
		cur       attr.Item
		onFailure string
		fails     bool
		wantItem  attr.Item
	}{
		{name: "no condition", cur: cur},
		{name: "holds", cond: "attribute_exists(pk)", cur: cur},
		{name: "fails", cond: "attribute_not_exists(pk)", cur: cur, fails: true},
		{name: "fails, NONE", cond: "attribute_not_exists(pk)", cur: cur, onFailure: "NONE", fails: true},
		{name: "fails, ALL_OLD", cond: "attribute_not_exists(pk)", cur: cur, onFailure: "ALL_OLD", fails: true, wantItem: cur},
		{name: "fails on no item, ALL_OLD", cond: "attribute_exists(pk)", onFailure: "ALL_OLD", fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := precondition{onFailure: tc.onFailure}
			if tc.cond != "" {
				c, err := expr.ParseCondition(tc.cond, nil)
				if err != nil {
					t.Fatalf("parsing %q: %v", tc.cond, err)
				}
				p.cond = c
			}
			err := p.check(tc.cur)
			if !tc.fails {
				if err != nil {
					t.Fatalf("check: %v, want nil", err)
				}
				return
			}
			var cf *conditionFailure
			if !errors.As(err, &cf) {
				t.Fatalf("check: %v (%T), want a *conditionFailure", err, err)
			}
			if !reflect.DeepEqual(cf.api.Item, tc.wantItem) {
				t.Errorf("item: got %v, want %v", cf.api.Item, tc.wantItem)
			}
			ae, ours := toAPIError(err)
			if ae != cf.api || !ours {
				t.Errorf("toAPIError: got %v, %v; want the failure's own error, a client error", ae, ours)
			}
		})
	}
}

// TestTransactionErrorReasons checks that a canceled transaction names each
// item's reason by the Go type of its error, wrapped or not, and that an
// error no reason stands for is returned as it is.
func TestTransactionErrorReasons(t *testing.T) {
	old := attr.Item{"pk": attr.S("a")}
	failed := &conditionFailure{api: conditionFailed(old)}
	invalid := &attr.ValidationError{Msg: "invalid"}
	for _, tc := range []struct {
		name        string
		err         error
		wantReasons []cancellationReason
		wantErr     error // returned as it is, instead of reasons
	}{
		{
			name: "reasons",
			err:  &store.CanceledError{Reasons: []error{nil, failed, fmt.Errorf("item 3: %w", failed), invalid}},
			wantReasons: []cancellationReason{
				{Code: "None"},
				{Code: "ConditionalCheckFailed", Message: failed.api.Message, Item: old},
				{Code: "ConditionalCheckFailed", Message: failed.api.Message, Item: old},
				{Code: "ValidationError", Message: "invalid"},
			},
		},
		{name: "not canceled", err: store.ErrIdempotentMismatch, wantErr: store.ErrIdempotentMismatch},
		{name: "a reason no code stands for", err: &store.CanceledError{Reasons: []error{nil, store.ErrStorageFailing}}, wantErr: store.ErrStorageFailing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := transactionError(tc.err)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v as it is", err, tc.wantErr)
				}
				return
			}
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v (%T), want an *apiError", err, err)
			}
			if !reflect.DeepEqual(ae.Reasons, tc.wantReasons) {
				t.Errorf("reasons:\n got %+v\nwant %+v", ae.Reasons, tc.wantReasons)
			}
		})
	}
}

// TestReturnedAttributes checks what each ReturnValues answers a write
// with.
func TestReturnedAttributes(t *testing.T) {
	old := attr.Item{"pk": attr.S("a"), "n": attr.N("1"), "s": attr.S("x")}
	cur := attr.Item{"pk": attr.S("a"), "n": attr.N("2"), "s": attr.S("x")}
	n := []expr.Path{expr.AttrPath("n")}
	gone := []expr.Path{expr.AttrPath("gone")}
	for _, tc := range []struct {
		rv       string
		old, cur attr.Item
		updated  []expr.Path
		want     attr.Item
	}{
		{rv: "", old: old, cur: cur},
		{rv: "NONE", old: old, cur: cur},
		{rv: "ALL_OLD", old: old, cur: cur, want: old},
		{rv: "ALL_OLD", cur: cur},
		{rv: "ALL_NEW", old: old, cur: cur, want: cur},
		{rv: "ALL_NEW", old: old},
		{rv: "UPDATED_OLD", old: old, cur: cur, updated: n, want: attr.Item{"n": attr.N("1")}},
		{rv: "UPDATED_NEW", old: old, cur: cur, updated: n, want: attr.Item{"n": attr.N("2")}},
		{rv: "UPDATED_OLD", cur: cur, updated: n},
		{rv: "UPDATED_NEW", old: old, cur: cur, updated: gone},
		{rv: "UPDATED_NEW", old: old, cur: cur},
	} {
		got := returnedAttributes(tc.rv, tc.old, tc.cur, tc.updated)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s (old %v, new %v, updated %v): got %v, want %v", tc.rv, tc.old, tc.cur, tc.updated, got, tc.want)
		}
	}
}
