package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gyre-dev/gyre/internal/app"
	"github.com/gyre-dev/gyre/internal/frontdoor"
	"github.com/gyre-dev/gyre/internal/pytool"
	"github.com/gyre-dev/gyre/internal/topology"
)

// appNode runs the default three regions with the reference app, and waits
// until every region's app serves.
func appNode(t *testing.T, router bool, edit func(*topology.Topology)) *Node {
	t.Helper()
	n := startNodeWith(t, func(topo *topology.Topology) {
		topo.App.Disabled = false
		if edit != nil {
			edit(topo)
		}
	}, router)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if waiting := n.WaitReady(ctx); len(waiting) > 0 {
		t.Fatalf("the app is not ready in %v", waiting)
	}
	return n
}

// reply is an HTTP response of the app: its status, headers and JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends one request and decodes the JSON answer.
func call(t *testing.T, method, url, body string, header ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", method, url, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			t.Fatalf("%s %s: %d, not a JSON object: %s", method, url, resp.StatusCode, raw)
		}
	}
	return r
}

func (r reply) want(t *testing.T, status int, what string) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	return r
}

// soloRegion leaves only the first region.
func soloRegion(topo *topology.Topology) {
	topo.Regions = topo.Regions[:1]
	topo.Routing.Controls.Rules = nil
}

func publicURL(r *Region) string { return "http://" + r.PublicAddr().String() }

func TestAppItems(t *testing.T) {
	n := appNode(t, false, nil)
	east, west := publicURL(n.Region("us-east-1")), publicURL(n.Region("us-west-2"))

	created := call(t, "POST", east+"/data", `{"name":"Nina","plays":12.50,"tags":["jazz",null],"meta":{"ok":true}}`).want(t, 201, "POST /data")
	id, _ := created.body["id"].(string)
	if len(id) != 26 || created.body["region"] != "us-east-1" || created.header.Get("Location") != "/data/"+id {
		t.Fatalf("POST /data answered %s (Location %q); want a 26-character ULID id and region us-east-1", created.raw, created.header.Get("Location"))
	}
	if created.body["plays"] != json.Number("12.50") {
		t.Errorf("the number came back as %v, not exactly as written", created.body["plays"])
	}
	got := call(t, "GET", east+"/data/"+id, "").want(t, 200, "GET in the region that took the write")
	if got.body["servedBy"] != "us-east-1" || got.body["name"] != "Nina" {
		t.Errorf("GET answered %s", got.raw)
	}
	// The write reaches the other regions.
	eventually(t, "the item in us-west-2", func() bool {
		return call(t, "GET", west+"/data/"+id, "").status == 200
	})
	got = call(t, "GET", west+"/data/"+id, "")
	if got.body["servedBy"] != "us-west-2" || got.body["region"] != "us-east-1" {
		t.Errorf("GET in us-west-2 answered %s; want region us-east-1, servedBy us-west-2", got.raw)
	}

	// PUT creates with a chosen id, then replaces; what a GET answered can
	// be written back as it came.
	call(t, "PUT", west+"/data/chosen", `{"v":1}`).want(t, 201, "PUT of a new id")
	back := call(t, "GET", west+"/data/chosen", "").want(t, 200, "GET chosen")
	back.body["v"] = 2
	b, _ := json.Marshal(back.body)
	put := call(t, "PUT", west+"/data/chosen", string(b)).want(t, 200, "PUT over an existing item")
	if put.body["v"] != json.Number("2") || put.body["servedBy"] != nil {
		t.Errorf("PUT answered %s", put.raw)
	}
	call(t, "PUT", west+"/data/chosen", `{"id":"other"}`).want(t, 400, "PUT with another id in the body")

	call(t, "DELETE", west+"/data/chosen", "").want(t, 204, "DELETE")
	call(t, "DELETE", west+"/data/chosen", "").want(t, 404, "DELETE of a deleted item")
	missing := call(t, "GET", west+"/data/chosen", "").want(t, 404, "GET of a deleted item")
	if missing.body["code"] != "NotFound" || !strings.Contains(fmt.Sprint(missing.body["message"]), "chosen") {
		t.Errorf("404 body %s; want code NotFound and a message naming the id", missing.raw)
	}

	// Paging visits every item once.
	want := []string{id}
	for i := range 7 {
		r := call(t, "POST", east+"/data", fmt.Sprintf(`{"n":%d}`, i)).want(t, 201, "POST")
		want = append(want, r.body["id"].(string))
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		url := east + "/data?limit=3"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		page := call(t, "GET", url, "").want(t, 200, "GET /data")
		items, _ := page.body["items"].([]any)
		if len(items) > 3 {
			t.Fatalf("a page of limit 3 has %d items", len(items))
		}
		for _, it := range items {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		c, ok := page.body["cursor"].(string)
		if !ok {
			break
		}
		cursor = c
	}
	slices.Sort(seen)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("paging saw %v, want %v", seen, want)
	}
}

func TestAppBadInput(t *testing.T) {
	n := appNode(t, false, soloRegion)
	url := publicURL(n.Regions()[0])
	big := `{"x":"` + strings.Repeat("a", app.DefaultMaxBodyBytes) + `"}`
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, mention      string
	}{
		{"POST", "/data", `{"a":`, 400, "BadRequest", "not valid JSON"},
		{"POST", "/data", `{"a":1} {"b":2}`, 400, "BadRequest", "more than one value"},
		{"POST", "/data", `[1,2]`, 400, "BadRequest", "an array"},
		{"POST", "/data", ``, 400, "BadRequest", "empty"},
		{"POST", "/data", `{"id":"mine"}`, 400, "BadRequest", "assigned by the server"},
		{"POST", "/data", `{"n":1e400}`, 400, "BadRequest", ""},
		{"POST", "/data", `{"":1}`, 400, "BadRequest", ""},
		{"POST", "/data", big, 413, "RequestTooLarge", "limit"},
		{"PATCH", "/data", `{}`, 405, "MethodNotAllowed", "PATCH"},
		{"POST", "/data/x", `{}`, 405, "MethodNotAllowed", "POST"},
		{"GET", "/data?limit=0", ``, 400, "BadRequest", "limit"},
		{"GET", "/data?limit=abc", ``, 400, "BadRequest", "limit"},
		{"GET", "/data?cursor=nope", ``, 400, "BadRequest", "cursor"},
		{"GET", "/data/" + strings.Repeat("k", 1025), ``, 400, "BadRequest", "1025 bytes"},
		{"GET", "/data/a/b", ``, 404, "NotFound", "/data/a/b"},
		{"POST", "/orders", `{"customerId":1,"productId":"p"}`, 400, "BadRequest", "customerId must be a string"},
		{"POST", "/orders", `{"productId":"p"}`, 400, "BadRequest", "customerId is required"},
		{"POST", "/orders", `{"customerId":"c","productId":"p","color":"red"}`, 400, "BadRequest", "unknown field"},
		{"POST", "/fill?customers=-1", ``, 400, "BadRequest", "customers"},
		{"POST", "/fill?products=5000", ``, 400, "BadRequest", "products"},
		{"DELETE", "/health", ``, 405, "MethodNotAllowed", "DELETE"},
	} {
		r := call(t, tc.method, url+tc.path, tc.body)
		msg, _ := r.body["message"].(string)
		if r.status != tc.status || r.body["code"] != tc.code || !strings.Contains(msg, tc.mention) {
			t.Errorf("%s %.40s %.40q: %d %s; want %d %s mentioning %q", tc.method, tc.path, tc.body, r.status, r.raw, tc.status, tc.code, tc.mention)
		}
		if tc.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
	// Nothing was half-written.
	page := call(t, "GET", url+"/data", "").want(t, 200, "GET /data")
	if items := page.body["items"].([]any); len(items) != 0 {
		t.Errorf("bad requests stored %d items: %s", len(items), page.raw)
	}
}

func TestAppOrders(t *testing.T) {
	n := appNode(t, false, nil)
	east, dublin := publicURL(n.Region("us-east-1")), publicURL(n.Region("eu-west-1"))

	// The sample order is seeded once, in the primary, and replicated.
	eventually(t, "the sample order in eu-west-1", func() bool {
		return call(t, "GET", dublin+"/orders/"+app.SampleOrderID+"?productId="+app.SampleProductID, "").status == 200
	})

	fill := call(t, "POST", east+"/fill?customers=3&products=2", "").want(t, 201, "POST /fill")
	customers, products := fill.body["customers"].([]any), fill.body["products"].([]any)
	if len(customers) != 3 || len(products) != 2 {
		t.Fatalf("POST /fill answered %s", fill.raw)
	}
	c, p := customers[0].(string), products[1].(string)
	order := fmt.Sprintf(`{"customerId":%q,"productId":%q,"orderId":"o-1"}`, c, p)
	placed := call(t, "POST", east+"/orders", order).want(t, 201, "POST /orders")
	if placed.body["orderId"] != "o-1" || placed.body["region"] != "us-east-1" {
		t.Errorf("POST /orders answered %s", placed.raw)
	}
	dup := call(t, "POST", east+"/orders", order).want(t, 409, "an order id in use")
	if !strings.Contains(dup.raw, "o-1") {
		t.Errorf("409 does not name the order: %s", dup.raw)
	}
	nc := call(t, "POST", east+"/orders", fmt.Sprintf(`{"customerId":"ghost","productId":%q,"orderId":"o-2"}`, p)).want(t, 400, "a missing customer")
	if !strings.Contains(nc.raw, `customer \"ghost\"`) || strings.Contains(nc.raw, "product") && !strings.Contains(nc.raw, "POST /fill") {
		t.Errorf("400 does not name the missing customer: %s", nc.raw)
	}
	both := call(t, "POST", east+"/orders", `{"customerId":"ghost","productId":"phantom","orderId":"o-3"}`).want(t, 400, "a missing customer and product")
	if !strings.Contains(both.raw, "ghost") || !strings.Contains(both.raw, "phantom") {
		t.Errorf("400 does not name both: %s", both.raw)
	}
	// A refused order was not stored.
	call(t, "GET", east+"/orders/o-2", "").want(t, 404, "a refused order")

	eventually(t, "the order in eu-west-1", func() bool {
		return call(t, "GET", dublin+"/orders/o-1?productId="+p, "").status == 200
	})
	got := call(t, "GET", dublin+"/orders/o-1?productId="+p, "")
	if got.body["servedBy"] != "eu-west-1" || got.body["customerId"] != c {
		t.Errorf("GET /orders answered %s", got.raw)
	}
	call(t, "GET", dublin+"/orders/o-1?productId=other", "").want(t, 404, "an order read with another product")
	// An order placed in another region is checked against that region's
	// replicas of the customers and products.
	eventually(t, "the customer in eu-west-1", func() bool {
		return call(t, "POST", dublin+"/orders", fmt.Sprintf(`{"customerId":%q,"productId":%q}`, customers[2], products[0])).status == 201
	})
}

func TestAppTablesCreatedOnceFromThePrimary(t *testing.T) {
	var topo *topology.Topology
	n := appNode(t, false, func(tp *topology.Topology) { topo = tp })
	tables := topo.App.Tables().Names()
	created := map[string]time.Time{}
	for _, r := range n.Regions() {
		for _, name := range tables {
			out, err := client(r).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatalf("%s: DescribeTable %s: %v", r.Name(), name, err)
			}
			var others []string
			for _, rep := range out.Table.Replicas {
				others = append(others, aws.ToString(rep.RegionName))
			}
			slices.Sort(others)
			if len(others) != 2 || slices.Contains(others, r.Name()) {
				t.Errorf("%s: table %s lists replicas %v; want the two other regions", r.Name(), name, others)
			}
			created[r.Name()+"/"+name] = aws.ToTime(out.Table.CreationDateTime)
		}
	}
	east := publicURL(n.Region("us-east-1"))
	call(t, "PUT", east+"/data/kept", `{"v":"before"}`).want(t, 201, "PUT")
	sample := call(t, "GET", east+"/orders/"+app.SampleOrderID, "").want(t, 200, "the sample order")

	// Start again on the same data: nothing is created, seeded or lost.
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n2, err := Start(Options{Topology: topo, Logger: n.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n2.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if waiting := n2.WaitReady(ctx); len(waiting) > 0 {
		t.Fatalf("after a restart the app is not ready in %v", waiting)
	}
	for _, r := range n2.Regions() {
		for _, name := range tables {
			out, err := client(r).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if c := aws.ToTime(out.Table.CreationDateTime); !c.Equal(created[r.Name()+"/"+name]) {
				t.Errorf("%s: table %s was created again (%v, before %v)", r.Name(), name, c, created[r.Name()+"/"+name])
			}
		}
	}
	east = publicURL(n2.Region("us-east-1"))
	if got := call(t, "GET", east+"/data/kept", "").want(t, 200, "an item after a restart"); got.body["v"] != "before" {
		t.Errorf("the item changed: %s", got.raw)
	}
	if again := call(t, "GET", east+"/orders/"+app.SampleOrderID, "").want(t, 200, "the sample order after a restart"); again.body["createdAt"] != sample.body["createdAt"] {
		t.Errorf("the sample order was seeded again: %v, before %v", again.body["createdAt"], sample.body["createdAt"])
	}
}

func TestAppHealthReadsTheDataPlane(t *testing.T) {
	n := appNode(t, false, soloRegion)
	r := n.Regions()[0]
	h := call(t, "GET", publicURL(r)+"/health", "").want(t, 200, "GET /health")
	if h.body["status"] != "healthy" {
		t.Errorf("/health answered %s", h.raw)
	}
	// Storage gone: the region still runs, but its reads fail.
	if err := r.DB().Close(); err != nil {
		t.Fatal(err)
	}
	h = call(t, "GET", publicURL(r)+"/health", "").want(t, 503, "GET /health with the store closed")
	if h.body["status"] != "unhealthy" || !strings.Contains(fmt.Sprint(h.body["reason"]), "read") {
		t.Errorf("/health answered %s; want unhealthy, naming the failed read", h.raw)
	}
}

func TestAppThroughTheFrontDoor(t *testing.T) {
	n := appNode(t, true, nil)
	fd := "http://" + n.Router().FrontDoorAddr().String()
	put := call(t, "PUT", fd+"/data/hello", `{"hello":"world"}`, frontdoor.LocationHeader, "oregon").want(t, 201, "PUT through the front door")
	if put.body["region"] != "us-west-2" || put.header.Get(frontdoor.RegionHeader) != "us-west-2" {
		t.Errorf("a client in oregon wrote in %v (served by %s)", put.body["region"], put.header.Get(frontdoor.RegionHeader))
	}
	eventually(t, "the item read from dublin", func() bool {
		return call(t, "GET", fd+"/data/hello", "", frontdoor.LocationHeader, "dublin").status == 200
	})
	got := call(t, "GET", fd+"/data/hello", "", frontdoor.LocationHeader, "dublin")
	if got.body["servedBy"] != "eu-west-1" || got.body["region"] != "us-west-2" {
		t.Errorf("read from dublin: %s", got.raw)
	}
}

// signV4 signs req with SigV4 for execute-api in region, as aws-sdk-go-v2
// signs API Gateway requests.
func signV4(t *testing.T, req *http.Request, body, region string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: DevAccessKey, SecretAccessKey: DevSecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", region, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// sendV4 sends a SigV4-signed request and returns the status and body.
func sendV4(t *testing.T, method, url, body, region string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	signV4(t, req, body, region)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sendV4a has botocore sign a request with SigV4a for regionSet and send
// it; it returns the status and body.
func sendV4a(t *testing.T, py, method, url, body, regionSet string, header ...string) (int, string) {
	t.Helper()
	args := []string{"testdata/apps/sigv4a_send.py", method, url, body, regionSet, DevAccessKey, DevSecretKey}
	for i := 0; i+1 < len(header); i += 2 {
		args = append(args, header[i]+"="+header[i+1])
	}
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		t.Fatalf("sigv4a_send.py: %v", err)
	}
	var res struct {
		Status int
		Body   string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("sigv4a_send.py printed %q: %v", out, err)
	}
	return res.Status, res.Body
}

func TestAppAuthentication(t *testing.T) {
	py := pytool.Find(t, "botocore", "awscrt")
	n := appNode(t, true, func(topo *topology.Topology) { topo.App.Auth = topology.AppAuthSigV4 })
	east, west := publicURL(n.Region("us-east-1")), publicURL(n.Region("us-west-2"))
	fd := "http://" + n.Router().FrontDoorAddr().String()

	// Unsigned: refused, as API Gateway's IAM authorization refuses it;
	// health checks need no signature.
	r := call(t, "POST", east+"/data", `{"a":1}`).want(t, 403, "an unsigned request")
	if r.body["code"] != "AccessDenied" || !strings.Contains(fmt.Sprint(r.body["message"]), "Authentication Token") {
		t.Errorf("403 body %s", r.raw)
	}
	call(t, "GET", east+"/health", "").want(t, 200, "an unsigned health check")

	// SigV4 is good only in the region it is scoped to.
	if st, body := sendV4(t, "PUT", east+"/data/v4", `{"by":"sigv4"}`, "us-east-1"); st != 201 {
		t.Errorf("SigV4 for us-east-1 at us-east-1: %d %s", st, body)
	}
	if st, body := sendV4(t, "GET", west+"/data/v4", "", "us-east-1"); st != 403 || !strings.Contains(body, "us-west-2") {
		t.Errorf("SigV4 for us-east-1 at us-west-2: %d %s; want 403 naming the region", st, body)
	}
	// A tampered body does not verify.
	req, _ := http.NewRequest("PUT", east+"/data/v4", strings.NewReader(`{"by":"mallory"}`))
	signV4(t, req, `{"by":"sigv4"}`, "us-east-1")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("a tampered body: %v %v; want 403", resp.Status, err)
	} else {
		resp.Body.Close()
	}

	// SigV4a with the region set "*": one signature, good wherever the
	// front door sends it.
	for _, loc := range []string{"virginia", "oregon", "dublin"} {
		st, body := sendV4a(t, py, "PUT", fd+"/data/v4a-"+loc, `{"by":"sigv4a"}`, "*", frontdoor.LocationHeader, loc)
		if st != 201 {
			t.Errorf("SigV4a * through the front door from %s: %d %s", loc, st, body)
		}
	}
	if st, body := sendV4a(t, py, "GET", west+"/data/v4", "", "us-east-1,us-west-2"); st != 200 && st != 404 {
		t.Errorf("SigV4a us-east-1,us-west-2 at us-west-2: %d %s", st, body)
	}
	if st, body := sendV4a(t, py, "GET", west+"/data/v4", "", "eu-*"); st != 403 || !strings.Contains(body, "eu-*") {
		t.Errorf("SigV4a eu-* at us-west-2: %d %s; want 403 naming the region set", st, body)
	}
}
