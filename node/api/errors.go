package api

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// Errors a backend of the control API wraps so the API answers with a
// matching status: 404, 403 and 400. Any other error is a 500. The
// control client's errors match them too.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("not allowed")
	ErrInvalid   = errors.New("invalid request")
)

// Problem is an error a user can meet in normal use, with a message ID so
// the CLI and the app can say it in the user's language: the catalogue
// (app/i18n) holds "api.<ID>" in every language, with the same fields as
// the English text here. Its kind (ErrNotFound, ErrForbidden or ErrInvalid)
// decides the control API's status; its English text is what JSON, logs
// and older clients see.
type Problem struct {
	Kind error
	ID   string
	Args map[string]string // the message's fields; values already formatted
	// Cause is the error behind it, for errors.Is in this process (such
	// as protocol.ErrTooLong); it does not cross the control API.
	Cause error
}

// Fail returns a Problem of kind with message id and fields given as name,
// value pairs (values formatted with %v). Every id must be in Messages
// (TestProblemIDs scans the node for them).
func Fail(kind error, id string, fields ...any) *Problem {
	p := &Problem{Kind: kind, ID: id}
	if len(fields) > 1 {
		p.Args = make(map[string]string, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			p.Args[fmt.Sprint(fields[i])] = fmt.Sprint(fields[i+1])
		}
	}
	return p
}

// Error is the kind and the English text: "not found: no zone \"x\"; …".
func (p *Problem) Error() string {
	if p.Kind == nil {
		return p.Text()
	}
	return p.Kind.Error() + ": " + p.Text()
}

// With sets the Problem's cause and returns it.
func (p *Problem) With(cause error) *Problem {
	p.Cause = cause
	return p
}

// Unwrap returns the kind and the cause.
func (p *Problem) Unwrap() []error {
	var out []error
	for _, e := range []error{p.Kind, p.Cause} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Text is the English message without its kind.
func (p *Problem) Text() string {
	t, ok := problemTemplates[p.ID]
	if !ok {
		return p.ID
	}
	var b strings.Builder
	if err := t.Execute(&b, p.Args); err != nil {
		return p.ID
	}
	return b.String()
}

// KindID is the catalogue ID of a kind ("api.kind.notfound"), or "" for
// none of the three.
func KindID(kind error) string {
	switch {
	case errors.Is(kind, ErrNotFound):
		return "api.kind.notfound"
	case errors.Is(kind, ErrForbidden):
		return "api.kind.forbidden"
	case errors.Is(kind, ErrInvalid):
		return "api.kind.invalid"
	}
	return ""
}

// Messages are the English texts of every Problem ID, in the catalogue's
// template syntax: app/i18n's en.json holds each as "api.<ID>" with the
// same text (TestProblemCatalogue), fr.json and es.json translate it.
// Names and codes arrive in the fields already quoted where the text
// quotes them.
var Messages = map[string]string{
	// Zones, members and alerts by name or ID.
	"zone.notfound":    `no zone {{.Ref}}; see lookout zone list`,
	"zone.ambiguous":   `{{.Ref}} matches {{.N}} zones: {{.List}}; give more of the ID`,
	"member.notfound":  `no member {{.Ref}}; see lookout zone members {{.Zone}}`,
	"member.ambiguous": `{{.Ref}} matches {{.N}} members: {{.List}}; give more of the ID`,
	"place.notfound":   `no place {{.Ref}}; see lookout places {{.Zone}}`,
	"place.ambiguous":  `{{.Ref}} matches {{.N}} places: {{.List}}; give more of the ID`,
	"alert.notfound":   `no alert {{.Ref}} in any of your zones; see lookout alerts ZONE`,
	"alert.gone":       `alert {{.ID}}`,
	"alert.idlength":   `alert ID {{.Ref}} must be 8 to {{.Max}} hex characters`,
	"alert.idhex":      `alert ID {{.Ref}} is not hex`,
	"alert.ambiguous":  `alert ID prefix {{.Ref}} is ambiguous; give more characters`,
	"link.notfound":    `no link {{.Ref}} in zone {{.Zone}}; see lookout zone links`,
	"link.ambiguous":   `{{.Ref}} matches more than one link; use the link ID`,

	// Roles and removal.
	"zone.removed":            `you were removed from zone {{.Zone}}`,
	"zone.expired":            `your membership of zone {{.Zone}} expired on {{.Date}}: ask an organizer to renew it`,
	"organizer.only.callout":  `only organizers can issue callouts; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.update":   `only organizers can update callouts; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.cosign":   `only organizers can co-sign callouts; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.promote":  `only organizers can promote members; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.remove":   `only organizers can remove members; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.settings": `only organizers can change zone settings; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.invite":   `only organizers can invite; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.link":     `only organizers can link zones; you are a {{.Role}} of zone {{.Zone}}`,
	"organizer.only.unlink":   `only organizers can end links; you are a {{.Role}} of zone {{.Zone}}`,
	"callout.endorganizer":    `only an organizer can end this callout`,
	"share.role":              `only verifiers and organizers share alerts; you are a member of zone {{.Zone}}`,
	"role.promote":            `role {{.Role}}: use verifier or organizer`,
	"role.invite":             `role {{.Role}}: use member, verifier or organizer`,
	"member.removed":          `{{.Member}} was removed from the zone`,
	"member.nokey":            `this node has not seen {{.Member}}'s key yet; try again after they have sent something`,
	"member.self":             `you cannot remove yourself`,
	"member.founder":          `the zone's founder cannot be removed`,
	"member.already":          `{{.Member}} was already removed`,
	"chain.promote":           `your certificate chain is too deep to grant roles; ask an organizer closer to the founder`,
	"chain.invite":            `your certificate chain is {{.N}} deep, the most allowed; ask an organizer closer to the founder to invite`,
	"chain.invited":           `you joined through an invite moments ago; an organizer's node certifies you directly within a minute of seeing you online: try again shortly`,

	// Rate limits.
	"rate.reports":       `this zone allows {{.N}} reports per member per {{.Window}}; wait a few minutes`,
	"rate.confirmations": `this zone allows {{.N}} confirmations per member per {{.Window}}; wait a few minutes`,
	"rate.other":         `this zone allows {{.N}} {{.Kind}} messages per member per {{.Window}}; wait a few minutes`,

	// Field values.
	"field.required": `{{.Field}} is required`,
	"field.toolong":  `{{.Field}}: text too long: {{.N}} characters, at most {{.Max}}`,
	"field.missing":  `{{.Field}}: required field is empty`,
	"field.badtext":  `{{.Field}}: text is not valid UTF-8 or contains control characters`,
	"field.invalid":  `{{.Field}}: {{.Err}}`,
	"count.range":    `{{.Field}} must be between 0 and {{.Max}}`,
	"quick.what":     `value out of range: what code {{.Code}} (use door, vehicle, arrest, checkpoint or foot)`,
	"quick.uniform":  `value out of range: uniform code {{.Code}} (use marked or plain)`,
	"quick.vehicles": `vehicles: value out of range: 0 to {{.Max}}`,
	"respond.status": `status {{.Status}}: use enroute, onscene or cannot`,
	"settings.share": `auto-share {{.Value}}: use verified, callouts, all or none`,
	"settings.range": `quorum must be 1 to {{.Quorum}} and rate limits 1 to {{.Rate}}`,
	"zone.name":      `zone name must be 1 to {{.Max}} characters on one line`,
	"zone.taken":     `you already have a zone named {{.Zone}}`,
	"link.name":      `a link name is 1 to {{.Max}} characters on one line`,
	"link.ttl":       `a link offer lasts 1m to {{.Max}}`,
	"invite.ttl":     `invite lifetime must be between 1s and {{.Max}}`,
	"share.hops":     `hops must be 1 to {{.Max}}`,

	// Alert states.
	"alert.expired":         `alert {{.ID}} has expired`,
	"alert.cleared":         `alert {{.ID}} has been cleared`,
	"confirm.callout":       `{{.ID}} is a callout; only sightings are confirmed`,
	"respond.sighting":      `{{.ID}} is a sighting; only callouts are answered`,
	"update.sighting":       `{{.ID}} is a sighting; only callouts are updated`,
	"cosign.sighting":       `{{.ID}} is a sighting; only callouts are co-signed`,
	"callout.ended":         `callout {{.ID}} has ended`,
	"callout.expired":       `callout {{.ID}} has expired`,
	"cosign.own":            `a second organizer must co-sign; you sent this callout`,
	"cosign.already":        `you already co-signed this callout`,
	"share.vialink":         `alert {{.ID}} came over a link; the zone it came from decides how far it goes`,
	"share.ended":           `alert {{.ID}} has ended; nothing to share`,
	"share.unverified":      `alert {{.ID}} is {{.State}}; only verified sightings and callouts cross links: confirm it first`,
	"share.nolinks":         `zone {{.Zone}} has no active links; see lookout zone link`,
	"place.share.role":      `only organizers share safe places with linked zones; you are a {{.Role}} of zone {{.Zone}}`,
	"place.share.linked":    `{{.Name}} came from linked zone {{.From}}; that zone decides how far it goes`,
	"place.share.local":     `{{.Name}} is marked for this zone only; update it with --share first`,
	"place.share.suggested": `{{.Name}} is a suggestion; a verifier confirms it before it can be shared`,
	"place.share.none":      `zone {{.Zone}} has no confirmed place marked shareable; update one with --share first`,
	"place.linked":          `{{.Name}} came from linked zone {{.From}} and is read-only here; ask that zone's organizers`,
	"link.ended":            `link {{.ID}} has already ended`,
	"zone.current":          `zone {{.Zone}} is current; only a zone made by an older Lookout can be left`,
	"zone.member":           `you are already a member of zone {{.Zone}}`,
	"zone.samesecret":       `this zone uses the secret of your zone {{.Zone}}; refusing a zone that would mix alerts`,
	"invite.bad":            `invalid invite code: {{.Detail}}`,
	"link.badcode":          `invalid link code: {{.Detail}}`,
	"link.unreachable":      `cannot reach the other zone's link end; it must be online, try again later`,
	"invite.expired":        `invite expired at {{.At}}; ask for a new invite`,
	"invite.own":            `this invite was made by this node; give it to someone else`,
	"invite.noaddress":      `this node has no address a joiner outside your network can reach yet (no public or relay address); invite with --lan if they are on your network or VPN, or wait until lookout status shows one`,
	"join.used":             `a member's node refused: this invite was already used; ask for a new one`,
	"join.unknown":          `the members' nodes named in the invite do not know it yet, or the code was altered; try again in a few minutes, or ask for a new invite`,
	"join.unreachable":      `cannot reach any member's node named in the invite; one of them must be online: try again later`,
	"join.expired":          `a member's node refused: this invite has expired; ask for a new one`,
	"join.already":          `a member's node refused: you are already a member of this zone; the invite is still unused`,
	"join.refused":          `a member's node refused: {{.Reason}}`,
	"linkcode.expired":      `link code expired at {{.At}}; ask the other zone's organizer for a new code`,
	"linkcode.ownzone":      `link code belongs to another zone: zone {{.Zone}} made this code; accept it in the other zone`,
	"linkcode.used":         `link code already used: zone {{.Zone}} already accepted it`,
	"linkcode.otherown":     `link code belongs to another zone: this code is already used by your zone {{.Zone}}`,
	"link.self":             `the link's other end is this node; link two zones whose organizers run different nodes`,
}

var problemTemplates = func() map[string]*template.Template {
	out := make(map[string]*template.Template, len(Messages))
	for _, id := range slices.Sorted(maps.Keys(Messages)) {
		out[id] = template.Must(template.New(id).Option("missingkey=zero").Parse(Messages[id]))
	}
	return out
}()

// Quote quotes a name or code for a Problem's field as the English text
// shows it ("Parkdale" with Go's escapes, so no control character
// reaches a terminal).
func Quote(s string) string { return strconv.Quote(s) }
