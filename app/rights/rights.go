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
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"lookout/node/api"
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

// Limits of a card set, so that a set from elsewhere (a zone's cards,
// later) stays readable on a phone and bounded in size.
const (
	MaxSetSize    = 64 << 10
	MaxCards      = 32
	MaxIDLen      = 32
	MaxTitleLen   = 120
	MaxIntroLen   = 400
	MaxPoints     = 20
	MaxPointLen   = 400
	MaxNoticeLen  = 400
	WrittenLayout = "2006-01-02"
)

// ErrUnknownTopic: no card has that ID.
var ErrUnknownTopic = errors.New("no such card")

// Card is one know-your-rights card.
type Card struct {
	ID     string   `json:"id"`     // stable, ASCII, the same in every language
	Title  string   `json:"title"`  // shown as the card's heading
	Intro  string   `json:"intro"`  // the situation, in one or two sentences
	Points []string `json:"points"` // what to do, one short step each
}

// Set is the cards of one language.
type Set struct {
	Lang     string `json:"lang"`     // en, fr or es
	Language string `json:"language"` // the language's own name
	Title    string `json:"title"`    // "Know your rights", as a screen's title
	Written  string `json:"written"`  // date the text was written, YYYY-MM-DD
	Notice   string `json:"notice"`   // "general information, not legal advice"
	Check    string `json:"check"`    // asks organizers to have a legal clinic check the cards
	Cards    []Card `json:"cards"`
}

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
// present and within its limit, IDs unique.
func Parse(b []byte) (*Set, error) {
	if len(b) > MaxSetSize {
		return nil, fmt.Errorf("card set: %d bytes, at most %d", len(b), MaxSetSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Set
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("card set: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("card set: unexpected data after the set")
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("card set %q: %w", s.Lang, err)
	}
	return &s, nil
}

func text(field, v string, max int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return fmt.Errorf("%s is empty", field)
	case len(v) > max:
		return fmt.Errorf("%s is %d bytes, at most %d", field, len(v), max)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }):
		return fmt.Errorf("%s has invalid or control characters", field)
	}
	return nil
}

func (s *Set) check() error {
	if Lang(s.Lang) != s.Lang || s.Lang == "" {
		return fmt.Errorf("language %q: use one of %s", s.Lang, strings.Join(Languages, ", "))
	}
	if _, err := time.Parse(WrittenLayout, s.Written); err != nil {
		return fmt.Errorf("written %q: want a date like 2026-12-02", s.Written)
	}
	for _, f := range []struct{ name, v string }{{"language", s.Language}, {"title", s.Title}, {"notice", s.Notice}, {"check", s.Check}} {
		if err := text(f.name, f.v, MaxNoticeLen); err != nil {
			return err
		}
	}
	if len(s.Cards) == 0 || len(s.Cards) > MaxCards {
		return fmt.Errorf("%d cards: want 1 to %d", len(s.Cards), MaxCards)
	}
	seen := map[string]bool{}
	for i, c := range s.Cards {
		if c.ID == "" || len(c.ID) > MaxIDLen || strings.Trim(c.ID, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return fmt.Errorf("card %d: id %q: use 1 to %d lower-case letters, digits or '-'", i+1, c.ID, MaxIDLen)
		}
		if seen[c.ID] {
			return fmt.Errorf("card %q appears twice", c.ID)
		}
		seen[c.ID] = true
		if err := text("card "+c.ID+" title", c.Title, MaxTitleLen); err != nil {
			return err
		}
		if err := text("card "+c.ID+" intro", c.Intro, MaxIntroLen); err != nil {
			return err
		}
		if len(c.Points) == 0 || len(c.Points) > MaxPoints {
			return fmt.Errorf("card %q: %d points, want 1 to %d", c.ID, len(c.Points), MaxPoints)
		}
		for j, p := range c.Points {
			if err := text(fmt.Sprintf("card %s point %d", c.ID, j+1), p, MaxPointLen); err != nil {
				return err
			}
		}
	}
	return nil
}

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
