package store

import (
	"maps"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestLogConsumersSurviveReopen stores two local consumers' positions,
// forgets one, and finds the other after the database is reopened.
func TestLogConsumersSurviveReopen(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open(Options{Dir: "db", FS: fs, Region: "a"})
	if err != nil {
		t.Fatal(err)
	}
	inc := db.Incarnation()
	if _, ok, err := db.LogConsumer("streams"); err != nil || ok {
		t.Fatalf("LogConsumer of an unknown consumer = %v, %v; want none", ok, err)
	}
	if err := db.SetLogConsumer("streams", Cursor{Incarnation: inc, Seq: 7, TS: 70}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLogConsumer("pitr", Cursor{Incarnation: inc, Seq: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteLogConsumer("pitr"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteLogConsumer("never-there"); err != nil {
		t.Fatalf("deleting an unknown consumer: %v", err)
	}
	// A consumer's position is not an origin's cursor.
	if c, err := db.Cursor("streams"); err != nil || c != (Cursor{}) {
		t.Fatalf("Cursor(streams) = %+v, %v; want none", c, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(Options{Dir: "db", FS: fs, Region: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]Cursor{"streams": {Incarnation: inc, Seq: 7, TS: 70}}
	got, err := db.LogConsumers()
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("LogConsumers after reopening = %+v, %v; want %+v", got, err, want)
	}
	if c, ok, err := db.LogConsumer("streams"); err != nil || !ok || c != want["streams"] {
		t.Fatalf("LogConsumer(streams) = %+v, %v, %v; want %+v", c, ok, err, want["streams"])
	}
}
