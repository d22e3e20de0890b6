package bind

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// Rows copied from /proc/net on a little-endian (amd64) Linux host.
const (
	tcpHeader   = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcpWildcard = "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1135 1 00000000a01a4684 100 0 0 10 0\n"
	tcpLoopback = "   1: 0100007F:AE33 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 32880 2 00000000bed84f5f 100 0 0 10 0\n"
	tcpTimeWait = "   1: 0100007F:98E4 0100007F:DA44 06 00000000:00000000 03:0000006A 00000000     0        0 0 3 00000000dbb857ac\n"
	tcpConn     = "  59: 0100007F:A9F8 0100007F:A645 01 00000000:00000000 02:000005DB 00000000     0        0 32054 3 0000000076f43dc2 20 0 0 10 -1\n"
	tcp6Header  = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp6Lo      = "   0: 00000000000000000000000001000000:8085 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 32876 2 00000000a77ce71e 100 0 0 10 0\n"
	tcp6Any     = "   0: 00000000000000000000000000000000:A645 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 32052 2 000000008da52d2a 100 0 0 10 0\n"
	tcp6Mapped  = "   1: 0000000000000000FFFF00000100007F:A645 0000000000000000FFFF00000100007F:A9F8 01 00000000:00000000 02:000005DB 00000000     0        0 32055 2 0000000010e9875f 20 0 0 10 -1\n"
	udpHeader   = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	udpLoopback = " 6186: 0100007F:972D 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 32878 2 00000000e29dea05 0\n"
	udp6Lo      = " 8372: 00000000000000000000000001000000:DFB7 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 32879 2 00000000de2bf038 0\n"
)

func sock(addr string, state uint8, inode uint64) socket {
	return socket{local: netip.MustParseAddrPort(addr), state: state, inode: inode}
}

func TestParseProcNet(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		order binary.ByteOrder
		want  []socket
	}{
		{"empty", "", binary.LittleEndian, nil},
		{"header only", tcpHeader, binary.LittleEndian, nil},
		{"tcp", tcpHeader + tcpWildcard + tcpLoopback + tcpTimeWait + tcpConn, binary.LittleEndian, []socket{
			sock("0.0.0.0:2024", 0x0A, 1135),
			sock("127.0.0.1:44595", 0x0A, 32880),
			sock("127.0.0.1:39140", 0x06, 0),
			sock("127.0.0.1:43512", 0x01, 32054),
		}},
		{"tcp6 with an IPv4-mapped address", tcp6Header + tcp6Lo + tcp6Any + tcp6Mapped, binary.LittleEndian, []socket{
			sock("[::1]:32901", 0x0A, 32876),
			sock("[::]:42565", 0x0A, 32052),
			sock("127.0.0.1:42565", 0x01, 32055),
		}},
		{"udp and udp6", udpHeader + udpLoopback + udp6Lo, binary.LittleEndian, []socket{
			sock("127.0.0.1:38701", 0x07, 32878),
			sock("[::1]:57271", 0x07, 32879),
		}},
		{"big-endian host", tcpHeader +
			"   0: 7F000001:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0\n" +
			"   1: 00000000000000000000000000000001:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0 100 0 0 10 0\n" +
			"   2: 00000000000000000000FFFF7F000001:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 79 1 0 100 0 0 10 0\n",
			binary.BigEndian, []socket{
				sock("127.0.0.1:8080", 0x0A, 77),
				sock("[::1]:8081", 0x0A, 78),
				sock("127.0.0.1:8082", 0x0A, 79),
			}},
		{"a word spans several bytes in host order", tcp6Header +
			"   0: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 80 1 0 100 0 0 10 0\n",
			binary.LittleEndian, []socket{sock("[2001:db8::1]:80", 0x0A, 80)}},
		{"malformed rows are skipped", tcpHeader +
			"   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n" + // no port
			"   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0\n" + // too short
			"   2: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3 1\n" + // bad hex
			"   3: 01007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4 1\n" + // short address
			"   4: 0100007F:1F90 00000000:0000 ZZ 00000000:00000000 00:00000000 00000000 0 0 5 1\n" + // bad state
			"   5: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 x 1\n" + // bad inode
			tcpLoopback,
			binary.LittleEndian, []socket{sock("127.0.0.1:44595", 0x0A, 32880)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseProcNet([]byte(tt.data), tt.order)
			if !slices.Equal(got, tt.want) {
				t.Errorf("parsed\n %v\nwant\n %v", got, tt.want)
			}
		})
	}
}

func TestHolders(t *testing.T) {
	socks := []socket{
		sock("0.0.0.0:8080", tcpListen, 1),
		sock("127.0.0.1:8080", tcpListen, 2),
		sock("[::]:8080", tcpListen, 3),
		sock("127.0.0.1:8080", 0x01, 4), // an accepted connection, not the listener
		sock("127.0.0.1:9000", tcpListen, 5),
		sock("127.0.0.2:9001", tcpListen, 6),
		sock("[::1]:9002", tcpListen, 7),
		sock("0.0.0.0:9003", tcpListen, 8),
		sock("127.0.0.1:9004", tcpListen, 0), // no inode: nobody to find
		sock("127.0.0.1:8053", 0x07, 9),
		sock("127.0.0.1:8054", 0x01, 10), // a connected UDP socket still holds its port
	}
	tests := []struct {
		name      string
		want      string
		listening bool
		inodes    []uint64
		exact     int
	}{
		{"exact before wildcards", "127.0.0.1:8080", true, []uint64{2, 1, 3}, 1},
		{"only wildcards", "127.0.0.3:8080", true, []uint64{1, 3}, 0},
		{"IPv6 loopback is not held by the IPv4 wildcard", "[::1]:8080", true, []uint64{3}, 0},
		{"IPv4-mapped wants match IPv4 sockets", "[::ffff:127.0.0.1]:9000", true, []uint64{5}, 1},
		{"another loopback address does not hold", "127.0.0.1:9001", true, nil, 0},
		{"the IPv4 wildcard is held by a specific IPv4 socket", "0.0.0.0:9001", true, []uint64{6}, 0},
		{"the IPv4 wildcard is not held by IPv6 loopback", "0.0.0.0:9002", true, nil, 0},
		{"the IPv6 wildcard is held by IPv6 loopback", "[::]:9002", true, []uint64{7}, 0},
		{"the IPv6 wildcard is held by the IPv4 wildcard", "[::]:9003", true, []uint64{8}, 0},
		{"a zone is ignored", "[::1%lo]:9002", true, []uint64{7}, 1},
		{"no inode", "127.0.0.1:9004", true, nil, 0},
		{"other port", "127.0.0.1:1", true, nil, 0},
		{"tcp wants a listener", "127.0.0.1:8053", true, nil, 0},
		{"udp takes any state", "127.0.0.1:8053", false, []uint64{9}, 1},
		{"udp connected", "127.0.0.1:8054", false, []uint64{10}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inodes, exact := holders(socks, netip.MustParseAddrPort(tt.want), tt.listening)
			if !slices.Equal(inodes, tt.inodes) || exact != tt.exact {
				t.Errorf("holders of %s: %v, %d exact; want %v, %d exact", tt.want, inodes, exact, tt.inodes, tt.exact)
			}
		})
	}
}

func TestParseSocketLink(t *testing.T) {
	tests := []struct {
		target string
		inode  uint64
		ok     bool
	}{
		{"socket:[32880]", 32880, true},
		{"socket:[0]", 0, true},
		{"socket:[]", 0, false},
		{"socket:[12", 0, false},
		{"socket:[-1]", 0, false},
		{"pipe:[32880]", 0, false},
		{"anon_inode:[eventpoll]", 0, false},
		{"/dev/null", 0, false},
	}
	for _, tt := range tests {
		inode, ok := parseSocketLink(tt.target)
		if inode != tt.inode || ok != tt.ok {
			t.Errorf("parseSocketLink(%q) = %d, %v; want %d, %v", tt.target, inode, ok, tt.inode, tt.ok)
		}
	}
}

func TestFormatCmdline(t *testing.T) {
	long := strings.Repeat("a", 300)
	wide := strings.Repeat("a", maxCmdline-1) + "é" // é is two bytes and straddles the cut
	tests := []struct {
		name, raw, want string
	}{
		{"arguments", "gyre\x00up\x00--config\x00gyre.yaml\x00", "gyre up --config gyre.yaml"},
		{"no trailing NUL", "gyre\x00up", "gyre up"},
		{"rewritten with spaces", "nginx: master process /usr/sbin/nginx", "nginx: master process /usr/sbin/nginx"},
		{"empty", "", ""},
		{"control characters", "sh\x00-c\x00echo a\nb\x1b[31m", "sh -c echo a b [31m"},
		{"invalid UTF-8", "gyre\x00\xff", "gyre ?"},
		{"exactly the limit", long[:maxCmdline], long[:maxCmdline]},
		{"cut", long, long[:maxCmdline] + "..."},
		{"cut at a rune boundary", wide, wide[:maxCmdline-1] + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatCmdline([]byte(tt.raw)); got != tt.want {
				t.Errorf("formatCmdline(%q) = %q; want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		errno     syscall.Errno
		host      string
		port      uint16
		privBelow int
		want      string
	}{
		{syscall.EADDRNOTAVAIL, "127.0.2.1", 8080, 1024, "127.0.2.1 is not an address of this host"},
		{syscall.EADDRNOTAVAIL, "::2", 8080, 1024, "::2 is not an address of this host"},
		{syscall.EACCES, "127.0.0.1", 80, 1024, "permission denied: port 80 is privileged (below 1024)"},
		{syscall.EACCES, "127.0.0.1", 8080, 1024, "permission denied"},
		{syscall.EACCES, "127.0.0.1", 0, 1024, "permission denied"},
		{syscall.EACCES, "127.0.0.1", 80, 0, "permission denied"},
		{syscall.EMFILE, "127.0.0.1", 8080, 1024, syscall.EMFILE.Error()},
	}
	for _, tt := range tests {
		if got := reason(tt.errno, tt.host, tt.port, tt.privBelow); got != tt.want {
			t.Errorf("reason(%v, %s, %d, %d) = %q; want %q", tt.errno, tt.host, tt.port, tt.privBelow, got, tt.want)
		}
	}
}

func TestLocalAddr(t *testing.T) {
	tests := []struct {
		addr string
		want netip.AddrPort
	}{
		{"127.0.0.1:8080", netip.MustParseAddrPort("127.0.0.1:8080")},
		{"[::ffff:127.0.0.1]:8080", netip.MustParseAddrPort("127.0.0.1:8080")},
		{":8080", netip.MustParseAddrPort("[::]:8080")},
		{"[::1]:53", netip.MustParseAddrPort("[::1]:53")},
		{"localhost:8080", netip.AddrPort{}}, // net resolves names; without its error there is nothing to go on
		{"127.0.0.1", netip.AddrPort{}},
	}
	for _, tt := range tests {
		if got := localAddr(tt.addr, nil); got != tt.want {
			t.Errorf("localAddr(%q) = %v; want %v", tt.addr, got, tt.want)
		}
	}
}
