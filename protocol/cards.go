package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A know-your-rights card set: the built-in cards (app/rights) and a
// zone's own cards (kind 15) are written the same way and checked by the
// same rules (CardSet.Check), so that a set from elsewhere stays readable
// on a phone and bounded in size.

// CardLangs are the languages a card set may be written in: Lookout's
// languages (node/api.Languages, checked equal by a test).
var CardLangs = []string{"en", "fr", "es"}

// Limits of a card set.
const (
	MaxCards         = 32
	MaxCardIDLen     = 32 // a card's topic ID, also a callout's card
	MaxCardTitleLen  = 120
	MaxCardIntroLen  = 400
	MaxCardPoints    = 20
	MaxCardPointLen  = 400
	MaxCardNoticeLen = 400
	// CardWrittenLayout is the layout of a set's written date.
	CardWrittenLayout = "2006-01-02"
)

// Card is one know-your-rights card.
type Card struct {
	ID     string   `json:"id"`     // stable, ASCII, the same in every language
	Title  string   `json:"title"`  // shown as the card's heading
	Intro  string   `json:"intro"`  // the situation, in one or two sentences
	Points []string `json:"points"` // what to do, one short step each
}

// CardSet is the cards of one language, as UTF-8 JSON.
type CardSet struct {
	Lang     string `json:"lang"`     // en, fr or es
	Language string `json:"language"` // the language's own name
	Title    string `json:"title"`    // "Know your rights", as a screen's title
	Written  string `json:"written"`  // date the text was written, YYYY-MM-DD
	Notice   string `json:"notice"`   // "general information, not legal advice"
	Check    string `json:"check"`    // asks organizers to have a legal clinic check the cards
	Cards    []Card `json:"cards"`
}

// ParseCardSet decodes and checks a card set of at most maxSize bytes:
// known fields only, every part present and within its limit, IDs unique.
func ParseCardSet(b []byte, maxSize int) (*CardSet, error) {
	if len(b) > maxSize {
		return nil, fmt.Errorf("card set: %d bytes, at most %d", len(b), maxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s CardSet
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("card set: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("card set: unexpected data after the set")
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("card set %q: %w", s.Lang, err)
	}
	return &s, nil
}

// ValidCardID reports whether id is a card's topic ID: 1 to MaxCardIDLen
// lower-case ASCII letters, digits or '-'.
func ValidCardID(id string) bool {
	return id != "" && len(id) <= MaxCardIDLen && strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

func cardText(field, v string, max int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return fmt.Errorf("%s is empty", field)
	case len(v) > max:
		return fmt.Errorf("%s is %d bytes, at most %d", field, len(v), max)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) || checkText(v) != nil:
		return fmt.Errorf("%s has invalid or control characters", field)
	}
	return nil
}

// Validate checks a decoded set: language, date, every text present,
// within its limit and free of control characters, 1 to MaxCards cards of
// 1 to MaxCardPoints points, IDs valid and unique.
func (s *CardSet) Validate() error {
	if !slices.Contains(CardLangs, s.Lang) {
		return fmt.Errorf("language %q: use one of %s", s.Lang, strings.Join(CardLangs, ", "))
	}
	if _, err := time.Parse(CardWrittenLayout, s.Written); err != nil {
		return fmt.Errorf("written %q: want a date like 2026-12-02", s.Written)
	}
	for _, f := range []struct{ name, v string }{{"language", s.Language}, {"title", s.Title}, {"notice", s.Notice}, {"check", s.Check}} {
		if err := cardText(f.name, f.v, MaxCardNoticeLen); err != nil {
			return err
		}
	}
	if len(s.Cards) == 0 || len(s.Cards) > MaxCards {
		return fmt.Errorf("%d cards: want 1 to %d", len(s.Cards), MaxCards)
	}
	seen := map[string]bool{}
	for i, c := range s.Cards {
		if !ValidCardID(c.ID) {
			return fmt.Errorf("card %d: id %q: use 1 to %d lower-case letters, digits or '-'", i+1, c.ID, MaxCardIDLen)
		}
		if seen[c.ID] {
			return fmt.Errorf("card %q appears twice", c.ID)
		}
		seen[c.ID] = true
		if err := cardText("card "+c.ID+" title", c.Title, MaxCardTitleLen); err != nil {
			return err
		}
		if err := cardText("card "+c.ID+" intro", c.Intro, MaxCardIntroLen); err != nil {
			return err
		}
		if len(c.Points) == 0 || len(c.Points) > MaxCardPoints {
			return fmt.Errorf("card %q: %d points, want 1 to %d", c.ID, len(c.Points), MaxCardPoints)
		}
		for j, p := range c.Points {
			if err := cardText(fmt.Sprintf("card %s point %d", c.ID, j+1), p, MaxCardPointLen); err != nil {
				return err
			}
		}
	}
	return nil
}
