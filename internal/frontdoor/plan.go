package frontdoor

import "github.com/gyre-dev/gyre/internal/geo"

// Plan orders the regions to try for a client at location. First the
// regions that are healthy and whose routing control is on, nearest first;
// then the unhealthy ones whose control is on, nearest first, so that a
// request is not refused while a region that might answer remains (health
// checks lag behind a failure; the retry finds out at once). Regions whose
// control is off are never tried — unless every control is off, when, like
// DNS answering as if all were healthy, every region is tried. It is a pure
// function of its arguments.
func Plan(g *geo.Table, location string, regions []string, healthy, on func(string) bool) []string {
	ranked := g.Rank(location, regions)
	out := make([]string, 0, len(ranked))
	for _, r := range ranked {
		if on(r) && healthy(r) {
			out = append(out, r)
		}
	}
	for _, r := range ranked {
		if on(r) && !healthy(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return ranked
	}
	return out
}
