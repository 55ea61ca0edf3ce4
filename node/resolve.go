package node

import (
	"fmt"
	"slices"
	"strings"

	"lookout/node/api"
)

// candidate is something a user names on the command line: a zone or a
// member, by ID, unique ID prefix, or name (case-insensitive).
type candidate[T any] struct {
	id, name string
	v        T
}

// minPrefix is the shortest ID prefix accepted, as for alert IDs.
const minPrefix = 8

// resolve picks the one candidate ref names: an exact ID; else the
// candidates whose ID starts with ref (at least minPrefix hex characters);
// else those named ref exactly; else named ref ignoring case. More than
// one is an error listing them; none is ErrNotFound. what is "zone",
// "member" or "place" (the errors' message IDs, node/api); zone names the
// zone for the not-found hint.
func resolve[T any](what, ref string, cs []candidate[T], zone string) (T, error) {
	var zero T
	ref = strings.TrimSpace(ref)
	lower := strings.ToLower(ref)
	for _, c := range cs {
		if c.id == lower {
			return c.v, nil
		}
	}
	rules := []func(candidate[T]) bool{
		func(c candidate[T]) bool {
			return len(lower) >= minPrefix && strings.Trim(lower, "0123456789abcdef") == "" && strings.HasPrefix(c.id, lower)
		},
		func(c candidate[T]) bool { return c.name != "" && c.name == ref },
		func(c candidate[T]) bool { return c.name != "" && strings.EqualFold(c.name, ref) },
	}
	for _, rule := range rules {
		var found []candidate[T]
		for _, c := range cs {
			if rule(c) {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0].v, nil
		}
		slices.SortFunc(found, func(a, b candidate[T]) int { return strings.Compare(a.id, b.id) })
		n := distinctPrefix(found)
		names := make([]string, len(found))
		for i, c := range found {
			names[i] = c.id[:min(len(c.id), n)]
			if c.name != "" {
				names[i] = fmt.Sprintf("%q (%s)", c.name, names[i])
			}
		}
		return zero, api.Fail(api.ErrInvalid, what+".ambiguous", "Ref", api.Quote(ref), "N", len(found), "List", strings.Join(names, ", "))
	}
	return zero, api.Fail(api.ErrNotFound, what+".notfound", "Ref", api.Quote(ref), "Zone", zone)
}

// distinctPrefix is the shortest ID prefix length, at least minPrefix,
// that tells the sorted candidates cs apart, so that the ambiguity error
// lists prefixes the user can give.
func distinctPrefix[T any](cs []candidate[T]) int {
	n := minPrefix
	for i := 1; i < len(cs); i++ {
		a, b := cs[i-1].id, cs[i].id
		k := 0
		for k < len(a) && k < len(b) && a[k] == b[k] {
			k++
		}
		n = max(n, k+1)
	}
	return n
}
