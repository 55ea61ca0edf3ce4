// Package i18n is the message catalogue shared by the command line and the
// desktop app: English, French and Spanish, in go-i18n's JSON format
// (catalog/*.json, "id": "text with {{.Name}} fields", or "one"/"other"
// forms for plurals). It has no Fyne import, so the headless CLI builds
// without cgo; the app can register the same files with Fyne's lang
// package (lang.AddTranslationsFS(i18n.Files, i18n.Dir)).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Files holds the catalogue, one file per language, under Dir.
//
//go:embed catalog/*.json
var Files embed.FS

// Dir is the directory of the catalogue in Files.
const Dir = "catalog"

// Languages are the catalogue's languages, English (the fallback) first.
var Languages = []language.Tag{language.English, language.French, language.Spanish}

var bundle = func() *goi18n.Bundle {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, t := range Languages {
		name := path.Join(Dir, t.String()+".json")
		data, err := Files.ReadFile(name)
		if err != nil {
			panic("i18n: read embedded " + name + ": " + err.Error()) // checked by tests
		}
		if _, err := b.ParseMessageFileBytes(data, name); err != nil {
			panic("i18n: parse embedded " + name + ": " + err.Error())
		}
	}
	return b
}()

var matcher = language.NewMatcher(Languages)

// Localizer renders catalogue messages in one language.
type Localizer struct {
	tag language.Tag
	l   *goi18n.Localizer
}

// New returns a Localizer for the best catalogue language for the given
// BCP 47 tags or POSIX locale names ("fr_CA.UTF-8"); English if none fits.
func New(locales ...string) *Localizer {
	var tags []language.Tag
	for _, s := range locales {
		if t, ok := parseLocale(s); ok {
			tags = append(tags, t)
		}
	}
	tag := language.English
	if len(tags) > 0 {
		_, i, conf := matcher.Match(tags...)
		if conf != language.No {
			tag = Languages[i]
		}
	}
	return &Localizer{tag: tag, l: goi18n.NewLocalizer(bundle, tag.String())}
}

// FromEnv returns the Localizer the POSIX locale variables ask for: the
// first set of LC_ALL, LC_MESSAGES and LANG.
func FromEnv(getenv func(string) string) *Localizer {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			return New(v)
		}
	}
	return New()
}

// parseLocale reads "fr_CA.UTF-8@euro" or "es-MX"; "C" and "POSIX" are
// not languages.
func parseLocale(s string) (language.Tag, bool) {
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i]
	}
	if s == "" || s == "C" || s == "POSIX" {
		return language.Und, false
	}
	t, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	return t, err == nil
}

// Tag is the language messages are rendered in.
func (l *Localizer) Tag() language.Tag { return l.tag }

// T renders message id with fields given as name, value pairs:
// T("cli.watching", "Zone", name). An unknown id renders as the id itself
// (tests check that every id used exists).
func (l *Localizer) T(id string, fields ...any) string {
	return l.render(id, nil, fields)
}

// N renders the plural form of message id for count; the template also
// sees count as {{.Count}}.
func (l *Localizer) N(id string, count int, fields ...any) string {
	return l.render(id, count, append(fields, "Count", count))
}

func (l *Localizer) render(id string, count any, fields []any) string {
	data := make(map[string]any, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		data[fmt.Sprint(fields[i])] = fields[i+1]
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		return id
	}
	return s
}
