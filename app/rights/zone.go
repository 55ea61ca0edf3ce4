package rights

import (
	"encoding/json"
	"slices"

	"lookout/node/api"
	"lookout/protocol"
)

// ForZone is the cards a zone's members read in lang: the zone's own set
// (api.ZoneCards from the node) over the built-in one. Mode "add" keeps
// the built-in cards, a zone card with a built-in topic replacing it and
// the others added after them; "replace" shows the zone's cards only; no
// set (none published, withdrawn, or one that does not parse here) is the
// built-in cards. The notice, date and legal-clinic line are the zone
// set's when it has one. zoned reports whether the zone's cards are used.
func ForZone(zc api.ZoneCards, lang string) (s *Set, zoned bool) {
	base := Builtin(lang)
	if len(zc.Set) == 0 || zc.Mode == "withdraw" {
		return base, false
	}
	raw, err := json.Marshal(zc.Set) // compacts; the node checked it already
	if err != nil {
		return base, false
	}
	z, err := protocol.ParseCardSet(raw, protocol.MaxCardSetSize)
	if err != nil {
		return base, false
	}
	out := Set(*z)
	if zc.Mode == "replace" {
		return &out, true
	}
	out.Cards = slices.Clone(base.Cards)
	for _, c := range z.Cards {
		if i := slices.IndexFunc(out.Cards, func(b Card) bool { return b.ID == c.ID }); i >= 0 {
			out.Cards[i] = c
		} else {
			out.Cards = append(out.Cards, c)
		}
	}
	return &out, true
}
