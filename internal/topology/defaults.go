package topology

import (
	"net"
	"strconv"
)

// Gyre's defaults for the fields of gyre.yaml.
const (
	// DefaultDataDir is the default data_dir.
	DefaultDataDir = "./gyre-data"
	// DevAccessKey and DevSecretKey are the default credentials: documented,
	// so for development only.
	DevAccessKey = "gyre"
	DevSecretKey = "gyregyregyre"
	// DevAdminToken is the default admin_token: documented, so for
	// development only.
	DevAdminToken = "gyre-admin"

	// DefaultDynamoDBPort is the DynamoDB port of the first region when its
	// address is not set; the second region gets the next port, and so on.
	DefaultDynamoDBPort = 8001
	// DefaultAdminPort is the admin port of the first region when its
	// address is not set; the second region gets the next port, and so on.
	DefaultAdminPort = 9001
)

// defaultRegions are the regions of a topology that names none.
var defaultRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// Default returns the topology gyre up runs when it is given no file: the
// regions us-east-1 (DynamoDB on 127.0.0.1:8001, admin on 127.0.0.1:9001),
// us-west-2 (8002, 9002) and eu-west-1 (8003, 9003), data in ./gyre-data,
// the development credentials and admin token, no tables, and the WAN of the
// built-in latency table. It is the same as parsing an empty file. Each call
// returns a new Topology the caller owns.
func Default() *Topology {
	t := &Topology{}
	t.EnsureDefaults()
	return t
}

// EnsureDefaults fills every unset field of t with its default, as each
// field's comment says. Parse and Load call it; a caller that builds a
// Topology in code calls it before Validate. It is idempotent, and leaves
// set fields alone, valid or not, but for the record sets' types, policies
// and failover roles: they match in any case, and the valid ones are spelt
// as the DNS server spells them ("a" becomes A, "Latency" latency,
// "primary" PRIMARY).
func (t *Topology) EnsureDefaults() {
	if t.DataDir == "" {
		t.DataDir = DefaultDataDir
	}
	if t.Credentials.AccessKey == "" {
		t.Credentials.AccessKey = DevAccessKey
	}
	if t.Credentials.SecretKey == "" {
		t.Credentials.SecretKey = DevSecretKey
	}
	if t.AdminToken == "" {
		t.AdminToken = DevAdminToken
	}
	if len(t.Regions) == 0 {
		t.Regions = make([]Region, len(defaultRegions))
		for i, name := range defaultRegions {
			t.Regions[i].Name = name
		}
	}
	for i := range t.Regions {
		r := &t.Regions[i]
		if r.DynamoDB == "" {
			r.DynamoDB = loopback(DefaultDynamoDBPort + i)
		}
		if r.Admin == "" {
			r.Admin = loopback(DefaultAdminPort + i)
		}
		r.ensureRoutingDefaults(i)
		r.ensureTLSDefaults()
	}

	if len(t.Tables) == 0 {
		t.Tables = nil // so that a printed and re-read topology is equal to this one
	}
	for i := range t.Tables {
		t.Tables[i].ensureDefaults(t.RegionNames())
	}

	if len(t.WAN.Links) == 0 {
		t.WAN.Links = nil
	}
	t.ensureRoutingDefaults()
	t.ensureAppDefaults()
	t.ensureAppRouting()
}

func (tb *Table) ensureDefaults(regions []string) {
	if len(tb.Replicas) == 0 {
		tb.Replicas = regions
	}
	tb.PartitionKey.ensureDefaults()
	tb.SortKey.ensureDefaults()
	if len(tb.GlobalSecondaryIndexes) == 0 {
		tb.GlobalSecondaryIndexes = nil
	}
	for i := range tb.GlobalSecondaryIndexes {
		ix := &tb.GlobalSecondaryIndexes[i]
		ix.PartitionKey.ensureDefaults()
		ix.SortKey.ensureDefaults()
		if ix.Projection == "" {
			ix.Projection = ProjectionAll
		}
		if len(ix.NonKeyAttributes) == 0 {
			ix.NonKeyAttributes = nil
		}
	}
}

// ensureDefaults gives a named key attribute the type S. An absent sort key
// stays absent.
func (k *KeyAttribute) ensureDefaults() {
	if k.Name != "" && k.Type == "" {
		k.Type = KeyString
	}
}

func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
