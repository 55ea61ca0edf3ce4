// Package rights holds Lookout's built-in know-your-rights cards: short,
// plain-language cards in English, French and Spanish, embedded in the
// binary so that they read with no network. It has no user-interface
// dependency: the CLI (built without cgo) and the app both use it.
//
// The cards are general information, not legal advice; every set carries
// that notice, the date it was written and a line asking organizers to
// have a local legal clinic check it.
package rights

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"lookout/node/api"
	"lookout/protocol"
)

// Languages are the languages of the built-in cards, Lookout's
// languages (api.Languages); the first is the fallback for any other.
var Languages = api.Languages

// Topics are the built-in cards' IDs, in the order they are listed.
var Topics = []string{TopicDoor, TopicWitness, TopicAccompany, TopicStopped}

const (
	TopicDoor      = "door"      // officers at the door
	TopicWitness   = "witness"   // witnessing
	TopicAccompany = "accompany" // accompaniment: what to bring
	TopicStopped   = "stopped"   // if you are stopped
)

// Limits of a card set (the rules are protocol.CardSet's, shared with a
// zone's own cards); built-in sets may be larger than a zone's
// (protocol.MaxCardSetSize).
const (
	MaxSetSize    = 64 << 10
	MaxCards      = protocol.MaxCards
	MaxIDLen      = protocol.MaxCardIDLen
	MaxTitleLen   = protocol.MaxCardTitleLen
	MaxIntroLen   = protocol.MaxCardIntroLen
	MaxPoints     = protocol.MaxCardPoints
	MaxPointLen   = protocol.MaxCardPointLen
	MaxNoticeLen  = protocol.MaxCardNoticeLen
	WrittenLayout = protocol.CardWrittenLayout
)

// ErrUnknownTopic: no card has that ID.
var ErrUnknownTopic = errors.New("no such card")

// Card is one know-your-rights card.
type Card = protocol.Card

// Set is the cards of one language.
type Set protocol.CardSet

//go:embed cards/*.json
var cardFS embed.FS

// Builtin returns the built-in cards in lang (a language or a locale
// such as "fr_CA.UTF-8"); any other language gets English.
func Builtin(lang string) *Set {
	l := Lang(lang)
	if l == "" {
		l = Languages[0]
	}
	return builtin[l]
}

var builtin = func() map[string]*Set {
	out := map[string]*Set{}
	for _, l := range Languages {
		b, err := cardFS.ReadFile("cards/" + l + ".json")
		if err != nil {
			panic(fmt.Sprintf("rights: built-in cards %s: %v", l, err)) // embedded at build time
		}
		s, err := Parse(b)
		if err != nil {
			panic(fmt.Sprintf("rights: built-in cards %s: %v", l, err)) // caught by the package's tests
		}
		out[l] = s
	}
	return out
}()

// Lang returns the card language of a locale name such as "es",
// "fr_CA.UTF-8" or "en-GB", or "" if there are no cards in it.
func Lang(locale string) string { return api.Lang(locale) }

// Parse decodes and checks a card set: known fields only, every part
// present and within its limit, IDs unique (protocol.ParseCardSet).
func Parse(b []byte) (*Set, error) {
	s, err := protocol.ParseCardSet(b, MaxSetSize)
	if err != nil {
		return nil, err
	}
	return (*Set)(s), nil
}

func (s *Set) check() error { return (*protocol.CardSet)(s).Validate() }

// Card returns the card with the given ID.
func (s *Set) Card(id string) (Card, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	for _, c := range s.Cards {
		if c.ID == id {
			return c, nil
		}
	}
	ids := make([]string, len(s.Cards))
	for i, c := range s.Cards {
		ids[i] = c.ID
	}
	return Card{}, fmt.Errorf("%w: %q; topics are %s", ErrUnknownTopic, id, strings.Join(ids, ", "))
}

// ForWhatCode is the card for a quick report's what code (see
// node/api: door, vehicle, arrest, checkpoint, foot), or "" if none fits.
func ForWhatCode(code string) string {
	switch code {
	case "door":
		return TopicDoor
	case "arrest":
		return TopicWitness
	case "checkpoint", "foot", "vehicle":
		return TopicStopped
	}
	return ""
}

// WriteCard writes a card as plain text, with the set's notice, date and
// legal-clinic line, wrapped at width columns (0: no wrapping).
func (s *Set) WriteCard(w io.Writer, c Card, width int) error {
	var b strings.Builder
	b.WriteString(strings.ToUpper(c.Title) + "\n\n")
	b.WriteString(wrap(c.Intro, "", width) + "\n\n")
	for _, p := range c.Points {
		b.WriteString(wrap(p, "  - ", width) + "\n")
	}
	b.WriteString("\n" + s.Footer(width))
	_, err := io.WriteString(w, b.String())
	return err
}

// Footer is the notice, the date written and the legal-clinic line.
func (s *Set) Footer(width int) string {
	return wrap(s.Notice, "", width) + "\n" + wrap(fmt.Sprintf("(%s) %s", s.Written, s.Check), "", width) + "\n"
}

// wrap breaks text at its spaces (U+0020 only: no-break spaces, as
// around French guillemets, hold) into lines of at most width columns
// (counted in runes), the first led by lead and the rest indented to
// match it.
func wrap(text, lead string, width int) string {
	indent := strings.Repeat(" ", utf8.RuneCountInString(lead))
	if width <= 0 {
		return lead + text
	}
	var lines []string
	line := lead
	n := utf8.RuneCountInString(lead)
	empty := true
	for _, word := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' }) {
		wn := utf8.RuneCountInString(word)
		if !empty && n+1+wn > width {
			lines = append(lines, line)
			line, n, empty = indent, len(indent), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += wn
		empty = false
	}
	return strings.Join(append(lines, line), "\n")
}
