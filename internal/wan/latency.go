package wan

import "time"

// rttRegions and rttMillis are the built-in latency table: the median
// round-trip time in milliseconds between AWS regions, from CloudPing's
// inter-region latency grid (https://www.cloudping.co/grid, p50, as sampled
// in 2023), with the two directions averaged and rounded. The figures are
// approximate — real ones move by a few milliseconds from day to day — and
// are here so a laptop deployment feels like the real thing, not to
// predict it. rttMillis[i][j] (j < i) is the round trip between
// rttRegions[i] and rttRegions[j]; one-way latency is half of it.
var rttRegions = [...]string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
	"me-south-1", "af-south-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
}

var rttMillis = [len(rttRegions)][]uint16{
	{},                                       //  0 us-east-1
	{12},                                     //  1 us-east-2
	{62, 52},                                 //  2 us-west-1
	{64, 52, 22},                             //  3 us-west-2
	{14, 24, 79, 60},                         //  4 ca-central-1
	{114, 124, 172, 174, 125},                //  5 sa-east-1
	{70, 79, 128, 119, 70, 176},              //  6 eu-west-1
	{76, 86, 147, 128, 78, 186, 13},          //  7 eu-west-2
	{82, 92, 142, 134, 84, 194, 18, 10},      //  8 eu-west-3
	{92, 102, 151, 140, 92, 204, 26, 17, 12}, //  9 eu-central-1
	{112, 121, 174, 158, 108, 215, 42, 32, 30, 22},                                                  // 10 eu-north-1
	{102, 110, 160, 150, 100, 213, 34, 25, 20, 12, 31},                                              // 11 eu-south-1
	{160, 170, 220, 212, 162, 272, 96, 87, 80, 86, 105, 78},                                         // 12 me-south-1
	{232, 242, 291, 274, 224, 342, 158, 147, 150, 160, 178, 170, 145},                               // 13 af-south-1
	{186, 196, 228, 218, 186, 298, 120, 111, 104, 110, 130, 102, 35, 158},                           // 14 ap-south-1
	{212, 200, 172, 162, 210, 322, 182, 171, 166, 158, 178, 149, 86, 203, 56},                       // 15 ap-southeast-1
	{198, 187, 138, 140, 198, 312, 256, 264, 279, 249, 294, 238, 178, 412, 146, 93},                 // 16 ap-southeast-2
	{188, 176, 146, 136, 186, 299, 212, 203, 197, 189, 210, 180, 122, 240, 89, 38, 127},             // 17 ap-east-1
	{146, 134, 108, 98, 144, 256, 201, 210, 216, 223, 243, 214, 162, 356, 124, 68, 106, 46},         // 18 ap-northeast-1
	{174, 162, 128, 119, 172, 285, 230, 238, 245, 223, 242, 213, 158, 383, 125, 70, 142, 38, 34},    // 19 ap-northeast-2
	{150, 138, 110, 99, 150, 262, 207, 216, 221, 230, 248, 220, 167, 362, 131, 75, 118, 39, 10, 24}, // 20 ap-northeast-3
}

// builtin maps each ordered pair of distinct regions in rttRegions to its
// one-way latency.
var builtin = func() map[[2]string]time.Duration {
	m := make(map[[2]string]time.Duration, len(rttRegions)*len(rttRegions))
	for i, row := range rttMillis {
		if len(row) != i {
			panic("wan: latency table row " + rttRegions[i] + " has the wrong length")
		}
		for j, rtt := range row {
			oneWay := time.Duration(rtt) * time.Millisecond / 2
			m[[2]string{rttRegions[i], rttRegions[j]}] = oneWay
			m[[2]string{rttRegions[j], rttRegions[i]}] = oneWay
		}
	}
	return m
}()

// DefaultLatency returns the built-in one-way latency between two AWS
// regions: half the median round-trip time CloudPing measured between them
// (approximate; see the table's comment for the source). It returns 0 and
// true for a region to itself, and false when either name is not an AWS
// region the table knows.
func DefaultLatency(a, b string) (time.Duration, bool) {
	if a == b {
		for _, r := range rttRegions {
			if r == a {
				return 0, true
			}
		}
		return 0, false
	}
	d, ok := builtin[[2]string{a, b}]
	return d, ok
}
