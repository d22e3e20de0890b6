package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gyre-dev/gyre/internal/attr"
)

var benchParams = &Params{
	Names: map[string]string{"#s": "status", "#n": "name"},
	Values: map[string]attr.Value{
		":s": attr.S("active"), ":n": attr.N("10"), ":m": attr.N("1000"), ":p": attr.S("user#"),
		":l": attr.ListValue([]attr.Value{attr.S("x")}), ":e": attr.ListValue(nil), ":one": attr.N("1"),
		":tags": {Type: attr.StringSet, Strs: []string{"new"}},
	},
}

var benchConditions = []struct{ name, src string }{
	{"simple", "#s = :s"},
	{"typical", "attribute_exists(pk) AND #s = :s AND version < :n"},
	{"complex", "(#s = :s OR #s IN (:p, :s)) AND size(tags) > :one AND NOT contains(tags, :s) AND profile.age BETWEEN :n AND :m AND begins_with(#n, :p)"},
}

var benchUpdates = []struct{ name, src string }{
	{"simple", "SET #s = :s"},
	{"typical", "SET #s = :s, version = version + :one, history = list_append(if_not_exists(history, :e), :l) REMOVE draft"},
	{"nested", "SET profile.age = :n, profile.addresses[0].city = :s, counters.hits = counters.hits + :one ADD tags :tags"},
}

// benchItem returns an item with the attributes the benchmark expressions
// use and extra attributes of about 40 bytes each.
func benchItem(extra int) attr.Item {
	it := attr.Item{
		"pk": attr.S("user#123"), "status": attr.S("active"), "version": attr.N("7"), "name": attr.S("user#ann"),
		"tags":    {Type: attr.StringSet, Strs: []string{"a", "b", "c"}},
		"history": attr.ListValue([]attr.Value{attr.S("created")}),
		"profile": attr.MapValue(map[string]attr.Value{
			"age":       attr.N("42"),
			"addresses": attr.ListValue([]attr.Value{attr.MapValue(map[string]attr.Value{"city": attr.S("Oslo")})}),
		}),
		"counters": attr.MapValue(map[string]attr.Value{"hits": attr.N("100")}),
	}
	for i := range extra {
		it[fmt.Sprintf("attr%04d", i)] = attr.S(strings.Repeat("v", 32))
	}
	return it
}

func BenchmarkParseCondition(b *testing.B) {
	for _, c := range benchConditions {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseCondition(c.src, benchParams); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseUpdate(b *testing.B) {
	for _, u := range benchUpdates {
		b.Run(u.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseUpdate(u.src, benchParams); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEvalCondition(b *testing.B) {
	for _, size := range []int{0, 100, 1000} {
		item := benchItem(size)
		for _, c := range benchConditions {
			cond, err := ParseCondition(c.src, benchParams)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/attrs=%d", c.name, len(item)), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := cond.Eval(item); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkApplyUpdate(b *testing.B) {
	for _, size := range []int{0, 100, 1000} {
		item := benchItem(size)
		for _, u := range benchUpdates {
			up, err := ParseUpdate(u.src, benchParams)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/attrs=%d", u.name, len(item)), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := up.Apply(item); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkProject(b *testing.B) {
	proj, err := ParseProjection("pk, #s, profile.addresses[0].city, tags", benchParams)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{0, 100, 1000} {
		item := benchItem(size)
		b.Run(fmt.Sprintf("attrs=%d", len(item)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				proj.Apply(item)
			}
		})
	}
}
