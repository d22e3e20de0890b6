package health

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCheckDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Check
		want Check
	}{
		{
			name: "HTTP takes the dev interval, a timeout of one interval, Route 53's threshold and fraction, path /",
			in:   Check{ID: "a", Target: "127.0.0.1:80"},
			want: Check{ID: "a", Type: TypeHTTP, Target: "127.0.0.1:80", Path: "/", Interval: time.Second,
				Timeout: time.Second, FailureThreshold: 3, HealthyFraction: 0.18},
		},
		{
			name: "a Route 53 interval caps the timeout at 2s",
			in:   Check{ID: "a", Type: TypeHTTPS, Target: "h:443", Interval: 30 * time.Second},
			want: Check{ID: "a", Type: TypeHTTPS, Target: "h:443", Path: "/", Interval: 30 * time.Second,
				Timeout: 2 * time.Second, FailureThreshold: 3, HealthyFraction: 0.18},
		},
		{
			name: "a short interval bounds the timeout",
			in:   Check{ID: "a", Type: TypeTCP, Target: "h:1", Interval: 200 * time.Millisecond},
			want: Check{ID: "a", Type: TypeTCP, Target: "h:1", Interval: 200 * time.Millisecond,
				Timeout: 200 * time.Millisecond, FailureThreshold: 3, HealthyFraction: 0.18},
		},
		{
			name: "calculated needs every child by default and takes no probe defaults",
			in:   Check{ID: "c", Type: TypeCalculated, Children: []string{"a", "b"}},
			want: Check{ID: "c", Type: TypeCalculated, Children: []string{"a", "b"}, HealthThreshold: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			got.EnsureDefaults()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EnsureDefaults:\n got %+v\nwant %+v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate of the defaulted check: %v", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	checks := []Check{
		{ID: "bad probe", Type: TypeTCP, Target: "nohost", SearchString: "x", Interval: time.Second,
			Timeout: 2 * time.Second, FailureThreshold: 11, HealthyFraction: 1.5, Children: []string{"x"}},
		{ID: "http", Target: "h:99999", Path: "health", Host: "a\r\nX-Evil: 1", SearchString: strings.Repeat("s", 256)},
		{ID: "http", Target: "h:80"},
		{ID: "calc", Type: TypeCalculated, Target: "h:80", Children: []string{"http", "http", "missing", "calc"}, HealthThreshold: 9},
		{ID: "loop1", Type: TypeCalculated, Children: []string{"loop2"}},
		{ID: "loop2", Type: TypeCalculated, Children: []string{"loop1"}},
		{ID: "", Type: "UDP"},
	}
	err := Validate(checks)
	if err == nil {
		t.Fatal("Validate accepted a list full of problems")
	}
	for _, want := range []string{
		`check "bad probe": ID has a space`,
		`Target "nohost" is not host:port`,
		`SearchString is for HTTP and HTTPS checks, not TCP`,
		`Timeout 2s is longer than Interval 1s`,
		`FailureThreshold 11 is not between 1 and 10`,
		`HealthyFraction 1.5 is not between 0 and 1`,
		`Children and HealthThreshold are for CALCULATED checks`,
		`Target "h:99999" has no port between 1 and 65535`,
		`Path "health" does not start with /`,
		`Host "a\r\nX-Evil: 1" has a space, slash or control character`,
		`SearchString is 256 bytes, more than 255`,
		`check "http" is defined twice`,
		`check "calc": Target is for HTTP, HTTPS and TCP checks`,
		`check "calc": names child "http" twice`,
		`check "calc": is its own child`,
		`check "calc": child "missing" is not a check`,
		`check "calc": HealthThreshold 9 is not between 1 and the number of children (4)`,
		`calculated checks form a cycle: loop1 -> loop2 -> loop1`,
		`check "": ID is empty`,
		`Type "UDP" is not HTTP, HTTPS, TCP or CALCULATED`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate's error lacks %q; it is:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "cycle"); n != 1 {
		t.Errorf("the cycle loop1 <-> loop2 was reported %d times, want once:\n%v", n, err)
	}
}

func TestValidateAcceptsGoodChecks(t *testing.T) {
	checks := []Check{
		{ID: "us-east-1", Target: "127.0.0.1:8001", Region: "us-east-1", Path: "/health?deep=1", SearchString: "ok"},
		{ID: "tls", Type: TypeHTTPS, Target: "[::1]:8443", Host: "api.gyre.test", Inverted: true},
		{ID: "tcp", Type: TypeTCP, Target: "localhost:7001", Interval: 30 * time.Second, Timeout: 4 * time.Second, FailureThreshold: 1},
		{ID: "either", Type: TypeCalculated, Children: []string{"us-east-1", "tls"}, HealthThreshold: 1},
		{ID: "nested", Type: TypeCalculated, Children: []string{"either", "tcp"}},
	}
	if err := Validate(checks); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestCheckJSONRoundTrip(t *testing.T) {
	c := Check{ID: "a", Type: TypeHTTPS, Target: "h:443", Region: "eu-west-1", Path: "/p", Host: "x",
		SearchString: "ok", Inverted: true, Interval: 1500 * time.Millisecond, Timeout: time.Second,
		FailureThreshold: 2, HealthyFraction: 0.5}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"interval":"1.5s"`) || !strings.Contains(string(data), `"search_string":"ok"`) {
		t.Errorf("JSON %s: want snake_case keys and durations as strings", data)
	}
	var back Check
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, c)
	}
}
