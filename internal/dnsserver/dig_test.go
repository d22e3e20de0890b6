package dnsserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests run a real server on 127.0.0.1:0 and query it with the real
// dig (Debian's dnsutils), as a resolver or an operator would.

// needDig returns dig's path, skipping the test when it is missing unless
// GYRE_REQUIRE_DIG=1 (as in CI) makes that a failure.
func needDig(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("dig")
	if err == nil {
		return path
	}
	if os.Getenv("GYRE_REQUIRE_DIG") == "1" {
		t.Fatalf("dig is not installed and GYRE_REQUIRE_DIG=1: install it (apt-get install -y dnsutils)")
	}
	t.Skip("dig is not installed: these tests query the server with it (apt-get install -y dnsutils; set GYRE_REQUIRE_DIG=1 to fail instead of skipping)")
	return ""
}

// digServer is a started fixture server and a way to dig it.
type digServer struct {
	t        *testing.T
	dig      string
	port     int
	health   *switches
	controls *switches
}

func startDigServer(t *testing.T) *digServer {
	t.Helper()
	dig := needDig(t)
	s, health, controls := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	udp, tcp := s.Addr()
	if udp.(*net.UDPAddr).Port != tcp.(*net.TCPAddr).Port {
		t.Fatalf("UDP on %v and TCP on %v: want one port", udp, tcp)
	}
	return &digServer{t: t, dig: dig, port: udp.(*net.UDPAddr).Port, health: health, controls: controls}
}

// digReply is dig's output, parsed.
type digReply struct {
	out                           string
	status                        string
	flags                         []string
	answer, authority, additional [][]string // records as fields: name ttl class type data...
	subnet                        string     // the CLIENT-SUBNET of the OPT pseudosection
	udpSize                       int
}

// run runs dig against the server with args and parses its output.
func (d *digServer) run(args ...string) digReply {
	d.t.Helper()
	all := append([]string{"@127.0.0.1", "-p", strconv.Itoa(d.port), "+tries=1", "+time=5"}, args...)
	out, err := exec.Command(d.dig, all...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("dig %s: %v\n%s", strings.Join(all, " "), err, out)
	}
	return parseDig(string(out))
}

var (
	statusRE = regexp.MustCompile(`status: (\w+)`)
	flagsRE  = regexp.MustCompile(`;; flags: ([a-z ]*);`)
	subnetRE = regexp.MustCompile(`; CLIENT-SUBNET: (\S+)`)
	udpRE    = regexp.MustCompile(`; EDNS: version: 0, flags:[a-z ]*; udp: (\d+)`)
)

func parseDig(out string) digReply {
	r := digReply{out: out}
	if m := statusRE.FindStringSubmatch(out); m != nil {
		r.status = m[1]
	}
	if m := flagsRE.FindStringSubmatch(out); m != nil {
		r.flags = strings.Fields(m[1])
	}
	if m := subnetRE.FindStringSubmatch(out); m != nil {
		r.subnet = m[1]
	}
	if m := udpRE.FindStringSubmatch(out); m != nil {
		r.udpSize, _ = strconv.Atoi(m[1])
	}
	var section *[][]string
	for line := range strings.SplitSeq(out, "\n") {
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION:"):
			section = &r.answer
		case strings.HasPrefix(line, ";; AUTHORITY SECTION:"):
			section = &r.authority
		case strings.HasPrefix(line, ";; ADDITIONAL SECTION:"):
			section = &r.additional
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, ";"):
			section = nil
		case section != nil:
			*section = append(*section, strings.Fields(line))
		}
	}
	return r
}

// data returns the data of a section's records (addresses, targets).
func data(rrs [][]string) []string {
	var out []string
	for _, f := range rrs {
		out = append(out, strings.Join(f[4:], " "))
	}
	return out
}

func (r digReply) hasFlag(f string) bool { return slices.Contains(r.flags, f) }

// expect checks status and answer data (in any order).
func (d *digServer) expect(r digReply, status string, answers ...string) {
	d.t.Helper()
	got := data(r.answer)
	slices.Sort(got)
	want := slices.Clone(answers)
	slices.Sort(want)
	if r.status != status || !slices.Equal(got, want) {
		d.t.Errorf("got %s %q, want %s %q; dig said:\n%s", r.status, got, status, want, r.out)
	}
}

func TestDigSimple(t *testing.T) {
	d := startDigServer(t)
	r := d.run("www.gyre.test", "A")
	d.expect(r, "NOERROR", wwwA1, wwwA2)
	if !r.hasFlag("aa") || r.hasFlag("ra") || r.hasFlag("tc") {
		t.Errorf("flags %v, want aa and neither ra nor tc", r.flags)
	}
	if r.answer[0][1] != "300" {
		t.Errorf("TTL %s, want 300", r.answer[0][1])
	}
	if r.udpSize != DefaultMaxUDPSize {
		t.Errorf("advertised UDP size %d, want %d", r.udpSize, DefaultMaxUDPSize)
	}
	d.expect(d.run("www.gyre.test", "AAAA"), "NOERROR", "2001:db8::1")
	d.expect(d.run("gyre.test", "A"), "NOERROR", wwwA1, wwwA2) // the apex alias
	r = d.run("a.b.deep.gyre.test", "TXT")
	d.expect(r, "NOERROR", `"hello"`, `"back\\slash \"quoted\""`)
}

func TestDigCase(t *testing.T) {
	d := startDigServer(t)
	r := d.run("WwW.GyRe.TeSt", "A")
	d.expect(r, "NOERROR", wwwA1, wwwA2)
	for _, rr := range r.answer {
		if rr[0] != "WwW.GyRe.TeSt." {
			t.Errorf("answer owner %q, want the question's case WwW.GyRe.TeSt.", rr[0])
		}
	}
}

func TestDigLatency(t *testing.T) {
	d := startDigServer(t)
	for _, tt := range []struct {
		args   []string
		want   string
		subnet string
	}{
		{[]string{"+subnet=10.5.0.0/24"}, latAPNE1, "10.5.0.0/24/16"},      // tokyo
		{[]string{"+subnet=10.6.1.0/24"}, latAPNE1, "10.6.1.0/24/16"},      // sydney
		{[]string{"+subnet=10.3.0.0/24"}, latEUW1, "10.3.0.0/24/16"},       // dublin
		{[]string{"+subnet=10.4.2.0/24"}, latEUW1, "10.4.2.0/24/16"},       // berlin
		{[]string{"+subnet=10.2.0.0/24"}, latUSE1, "10.2.0.0/24/16"},       // oregon
		{[]string{"+subnet=10.7.0.0/24"}, latUSE1, "10.7.0.0/24/16"},       // sao paulo
		{[]string{"+subnet=10.5.0.0/8"}, latUSE1, "10.0.0.0/8/8"},          // no network: the default
		{[]string{"+subnet=0"}, latUSE1, "0.0.0.0/0/0"},                    // no subnet: the source, 127.0.0.1
		{[]string{"-b", "127.0.0.2"}, latAPNE1, ""},                        // source address in tokyo
		{[]string{"-b", "127.0.0.3"}, latEUW1, ""},                         // source address in dublin
		{[]string{"-b", "127.0.0.3", "+subnet=0"}, latEUW1, "0.0.0.0/0/0"}, // subnet /0 defers to the source
		{[]string{"-b", "127.0.0.3", "+subnet=10.5.0.0/24"}, latAPNE1, "10.5.0.0/24/16"},
	} {
		r := d.run(append(tt.args, "lat.gyre.test", "A")...)
		d.expect(r, "NOERROR", tt.want)
		if r.subnet != tt.subnet {
			t.Errorf("dig %v: client subnet echoed %q, want %q", tt.args, r.subnet, tt.subnet)
		}
	}
	// Answers that do not depend on the location have scope 0.
	if r := d.run("+subnet=10.5.0.0/24", "www.gyre.test"); r.subnet != "10.5.0.0/24/0" {
		t.Errorf("simple answer echoed client subnet %q, want 10.5.0.0/24/0", r.subnet)
	}
	// The nearest region's health check fails: the next nearest.
	d.health.set("hc-apne1", false)
	d.expect(d.run("+subnet=10.5.0.0/24", "lat.gyre.test"), "NOERROR", latUSE1)
	// Every record unhealthy: answered as if all were healthy.
	d.health.set("hc-use1", false)
	d.health.set("hc-euw1", false)
	d.expect(d.run("+subnet=10.5.0.0/24", "lat.gyre.test"), "NOERROR", latAPNE1)
	d.expect(d.run("+subnet=10.3.0.0/24", "lat.gyre.test"), "NOERROR", latEUW1)
	for _, c := range []string{"hc-apne1", "hc-use1", "hc-euw1"} {
		d.health.set(c, true)
	}
	// A routing control off: the region's records are unhealthy.
	d.controls.set("ap-northeast-1", false)
	d.expect(d.run("+subnet=10.5.0.0/24", "lat.gyre.test"), "NOERROR", latUSE1)
	d.expect(d.run("-b", "127.0.0.2", "lat.gyre.test"), "NOERROR", latUSE1)
	d.controls.set("ap-northeast-1", true)
	d.expect(d.run("+subnet=10.5.0.0/24", "lat.gyre.test"), "NOERROR", latAPNE1)
}

func TestDigFailover(t *testing.T) {
	d := startDigServer(t)
	d.expect(d.run("fo.gyre.test"), "NOERROR", foPrimary)
	d.health.set("hc-primary", false)
	d.expect(d.run("fo.gyre.test"), "NOERROR", foSecondary)
	d.health.set("hc-secondary", false)
	d.expect(d.run("fo.gyre.test"), "NOERROR", foPrimary) // both unhealthy: the primary
	d.health.set("hc-primary", true)
	d.expect(d.run("fo.gyre.test"), "NOERROR", foPrimary)
}

// digMany asks for name n times in one dig invocation and counts the
// answers.
func (d *digServer) digMany(name string, n int) (map[string]int, [][]string) {
	d.t.Helper()
	args := []string{"+short"}
	for range n {
		args = append(args, name)
	}
	all := append([]string{"@127.0.0.1", "-p", strconv.Itoa(d.port), "+tries=1", "+time=5"}, args...)
	out, err := exec.Command(d.dig, all...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("dig: %v\n%s", err, out)
	}
	counts := map[string]int{}
	var lines [][]string
	for l := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		counts[l]++
		lines = append(lines, []string{l})
	}
	return counts, lines
}

func TestDigWeighted(t *testing.T) {
	d := startDigServer(t)
	const n = 400
	counts, _ := d.digMany("w.gyre.test", n)
	// b has weight 3 of 4: expect 300, standard deviation ~8.7; allow 5.
	if b := counts[wB]; b < 257 || b > 343 || counts[wA]+counts[wB] != n {
		t.Errorf("weighted answers %v over %d queries, want about %d of %s and the rest %s", counts, n, 3*n/4, wB, wA)
	}
	// Positive weights unhealthy: the weight-0 record.
	d.health.set("hc-a", false)
	d.health.set("hc-b", false)
	d.expect(d.run("w.gyre.test"), "NOERROR", wZ)
	// All unhealthy: as if all were healthy, so positive weights again.
	d.health.set("hc-z", false)
	counts, _ = d.digMany("w.gyre.test", 40)
	if counts[wZ] != 0 || counts[wA]+counts[wB] != 40 {
		t.Errorf("all unhealthy: answers %v, want only %s and %s", counts, wA, wB)
	}
}

func TestDigMultivalue(t *testing.T) {
	d := startDigServer(t)
	r := d.run("mv.gyre.test")
	got := data(r.answer)
	if len(got) != maxMultivalue || len(slices.Compact(slices.Sorted(slices.Values(got)))) != maxMultivalue {
		t.Errorf("multivalue: %q, want %d distinct addresses", got, maxMultivalue)
	}
	for i := 4; i <= multivalueRecords; i++ {
		d.health.set(fmt.Sprintf("hc-m%02d", i), false)
	}
	d.expect(d.run("mv.gyre.test"), "NOERROR", "192.0.2.51", "192.0.2.52", "192.0.2.53")
	for i := 1; i <= 3; i++ {
		d.health.set(fmt.Sprintf("hc-m%02d", i), false)
	}
	if got := data(d.run("mv.gyre.test").answer); len(got) != maxMultivalue {
		t.Errorf("multivalue, all unhealthy: %q, want %d records anyway", got, maxMultivalue)
	}
}

func TestDigAlias(t *testing.T) {
	d := startDigServer(t)
	r := d.run("+subnet=10.3.0.0/24", "app.gyre.test")
	d.expect(r, "NOERROR", latEUW1)
	if r.answer[0][0] != "app.gyre.test." || r.answer[0][1] != "30" || r.subnet != "10.3.0.0/24/16" {
		t.Errorf("alias answer %v with subnet %q, want owner app.gyre.test., the target's TTL 30 and scope 16", r.answer[0], r.subnet)
	}
	d.expect(d.run("+subnet=10.5.0.0/24", "edge.gyre.test"), "NOERROR", latAPNE1)
	for _, c := range []string{"hc-apne1", "hc-use1", "hc-euw1"} {
		d.health.set(c, false)
	}
	// The alias evaluates target health: the target has no healthy
	// record, so the failover goes to the secondary.
	r = d.run("+subnet=10.5.0.0/24", "edge.gyre.test")
	d.expect(r, "NOERROR", edgeSecondary)
	if r.subnet != "10.5.0.0/24/0" {
		t.Errorf("the secondary's answer does not depend on location, but scope is %q", r.subnet)
	}
	// The simple alias does not evaluate health: the latency set answers
	// as if all were healthy.
	d.expect(d.run("+subnet=10.5.0.0/24", "app.gyre.test"), "NOERROR", latAPNE1)
}

func TestDigCNAME(t *testing.T) {
	d := startDigServer(t)
	d.expect(d.run("docs.gyre.test"), "NOERROR", "www.gyre.test.", wwwA1, wwwA2)
	d.expect(d.run("ext.gyre.test"), "NOERROR", "example.net.")
}

func TestDigSOAAndNS(t *testing.T) {
	d := startDigServer(t)
	r := d.run("gyre.test", "SOA")
	d.expect(r, "NOERROR", "ns1.gyre.test. hostmaster.gyre.test. 1 7200 900 1209600 60")
	r = d.run("gyre.test", "NS")
	d.expect(r, "NOERROR", "ns1.gyre.test.", "ns.example.net.")
	if got := data(r.additional); !slices.Equal(got, []string{"127.0.0.1"}) || r.additional[0][0] != "ns1.gyre.test." {
		t.Errorf("NS glue %v, want ns1.gyre.test. A 127.0.0.1", r.additional)
	}
	d.expect(d.run("ns1.gyre.test", "A"), "NOERROR", "127.0.0.1")
}

func TestDigNegative(t *testing.T) {
	d := startDigServer(t)
	for _, tt := range []struct{ name, qtype, status string }{
		{"nope.gyre.test", "A", "NXDOMAIN"},
		{"x.www.gyre.test", "A", "NXDOMAIN"},
		{"www.gyre.test", "TXT", "NOERROR"},    // NODATA: other types exist
		{"deep.gyre.test", "A", "NOERROR"},     // NODATA: empty non-terminal
		{"b.deep.gyre.test", "TXT", "NOERROR"}, // NODATA: empty non-terminal
		{"www.gyre.test", "MX", "NOERROR"},     // NODATA: a type the server does not serve
	} {
		r := d.run(tt.name, tt.qtype)
		d.expect(r, tt.status)
		if len(r.authority) != 1 || r.authority[0][3] != "SOA" || r.authority[0][1] != "60" || r.authority[0][0] != "gyre.test." {
			t.Errorf("%s %s: authority %v, want the zone's SOA with the negative TTL 60", tt.name, tt.qtype, r.authority)
		}
		if !r.hasFlag("aa") {
			t.Errorf("%s %s: flags %v, want aa", tt.name, tt.qtype, r.flags)
		}
	}
	for _, name := range []string{"example.com", "test", "."} {
		r := d.run(name, "A")
		d.expect(r, "REFUSED")
		if r.hasFlag("aa") || len(r.authority) > 0 {
			t.Errorf("%s: REFUSED with flags %v and authority %v, want neither aa nor authority", name, r.flags, r.authority)
		}
	}
	d.expect(d.run("-c", "CH", "version.bind", "TXT"), "REFUSED")
	// dig reports only that the transfer failed; TestReply checks NOTIMP.
	if r := d.run("gyre.test", "AXFR"); !strings.Contains(r.out, "Transfer failed") {
		t.Errorf("AXFR did not fail:\n%s", r.out)
	}
}

func TestDigANY(t *testing.T) {
	d := startDigServer(t)
	d.expect(d.run("www.gyre.test", "ANY"), "NOERROR", wwwA1, wwwA2)
	d.expect(d.run("+tcp", "www.gyre.test", "ANY"), "NOERROR", wwwA1, wwwA2)
}

func TestDigTCP(t *testing.T) {
	d := startDigServer(t)
	r := d.run("+tcp", "www.gyre.test")
	d.expect(r, "NOERROR", wwwA1, wwwA2)
	if !strings.Contains(r.out, "(TCP)") {
		t.Errorf("dig +tcp did not say it used TCP:\n%s", r.out)
	}
	var big []string
	for i := 1; i <= bigValues; i++ {
		big = append(big, fmt.Sprintf("198.51.100.%d", i))
	}
	d.expect(d.run("+tcp", "big.gyre.test"), "NOERROR", big...)
}

func TestDigTruncation(t *testing.T) {
	d := startDigServer(t)
	r := d.run("+bufsize=512", "+ignore", "big.gyre.test")
	if r.status != "NOERROR" || !r.hasFlag("tc") || len(r.answer) != 0 {
		t.Errorf("bufsize 512: status %s, flags %v, %d answers; want NOERROR, tc and no partial answer:\n%s", r.status, r.flags, len(r.answer), r.out)
	}
	// Without EDNS0 the limit is 512 too.
	r = d.run("+noedns", "+ignore", "big.gyre.test")
	if !r.hasFlag("tc") {
		t.Errorf("no EDNS0: flags %v, want tc", r.flags)
	}
	// dig's default buffer (1232) holds 100 addresses? No: ~1.6 KB.
	r = d.run("+ignore", "big.gyre.test")
	if !r.hasFlag("tc") {
		t.Errorf("bufsize 1232: flags %v, want tc", r.flags)
	}
	// A buffer big enough, but the server caps it at MaxUDPSize.
	r = d.run("+bufsize=4096", "+ignore", "big.gyre.test")
	if !r.hasFlag("tc") {
		t.Errorf("bufsize 4096 capped at %d: flags %v, want tc", DefaultMaxUDPSize, r.flags)
	}
	// Left to itself, dig retries over TCP and gets everything.
	r = d.run("+bufsize=512", "big.gyre.test")
	if !strings.Contains(r.out, "Truncated, retrying in TCP mode") || len(r.answer) != bigValues {
		t.Errorf("dig did not retry over TCP for the whole answer (%d records):\n%s", len(r.answer), r.out)
	}
	// Small answers fit in 512 bytes.
	d.expect(d.run("+bufsize=512", "www.gyre.test"), "NOERROR", wwwA1, wwwA2)
}

func TestDigEDNS(t *testing.T) {
	d := startDigServer(t)
	// EDNS version 1: BADVERS, and dig falls back to version 0.
	r := d.run("+edns=1", "www.gyre.test")
	if !strings.Contains(r.out, "BADVERS, retrying with EDNS version 0") {
		t.Errorf("dig +edns=1 did not get BADVERS:\n%s", r.out)
	}
	d.expect(r, "NOERROR", wwwA1, wwwA2)
	// No EDNS0 in, none out.
	r = d.run("+noedns", "www.gyre.test")
	d.expect(r, "NOERROR", wwwA1, wwwA2)
	if strings.Contains(r.out, "OPT PSEUDOSECTION") {
		t.Errorf("reply to a query without EDNS0 has an OPT record:\n%s", r.out)
	}
}
