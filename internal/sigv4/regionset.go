package sigv4

import "strings"

// A SigV4a region set (X-Amz-Region-Set) names the regions a signature is
// valid in: entries separated by commas, each a region name or a pattern in
// which '*' stands for any run of characters, possibly empty. "*" covers
// every region, "us-*" every region whose name starts with "us-", and
// "us-east-1,us-west-2" exactly those two. Entries are trimmed of
// surrounding whitespace; an empty entry covers nothing. Names compare
// byte for byte, so case matters, as region names are lowercase.

// regionSetCovers reports whether the region set covers region.
func regionSetCovers(set, region string) bool {
	for entry := range strings.SplitSeq(set, ",") {
		if e := strings.TrimSpace(entry); e != "" && matchWildcard(e, region) {
			return true
		}
	}
	return false
}

// matchWildcard reports whether s matches pattern, in which '*' matches any
// run of bytes and every other byte itself. It backtracks only to the last
// '*', so it costs O(len(pattern) + len(s)²) whatever the pattern: a hostile
// region set cannot make it slow, since s is the verifier's own region.
func matchWildcard(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0 // the last '*' seen, and where in s it began to match
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			// Let the last '*' swallow one more byte and try again.
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
