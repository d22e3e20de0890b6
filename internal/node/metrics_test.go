package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gyre-dev/gyre/internal/topology"
)

// metric returns the value of the first sample of name whose labels contain
// labels, scraped from a region's admin API, or -1.
func metric(t *testing.T, n *Node, region, name, labels string) float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.Region(region).AdminAddr().String()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+n.Topology().AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + name + `\{([^}]*)\} (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		if regexp.MustCompile(labels).MatchString(m[1]) {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return -1
}

// TestHeldBackLogIsVisible cuts a region off and checks that the change log
// its peers keep for it, and their backlog towards it, show in the metrics
// an on-call engineer alerts on.
func TestHeldBackLogIsVisible(t *testing.T) {
	n := startNode(t, func(topo *topology.Topology) {
		topo.Tables = []topology.Table{{Name: "kvs", PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString}}}
	})
	if err := n.WAN().Isolate("eu-west-1"); err != nil {
		t.Fatal(err)
	}
	east := client(n.Region("us-east-1"))
	for i := range 5 {
		if _, err := east.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("kvs"),
			Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the retained log and the backlog towards eu-west-1 to show", func() bool {
		return metric(t, n, "us-east-1", "gyre_repl_log_retained_entries", `region="us-east-1"`) >= 5 &&
			metric(t, n, "us-east-1", "gyre_repl_backlog_entries", `destination="eu-west-1"`) >= 5
	})
	if err := n.WAN().Rejoin("eu-west-1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the backlog to drain", func() bool {
		return metric(t, n, "us-east-1", "gyre_repl_backlog_entries", `destination="eu-west-1"`) == 0
	})
}
