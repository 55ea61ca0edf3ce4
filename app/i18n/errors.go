package i18n

import (
	"errors"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"

	"lookout/node/api"
)

// translatedArgs are Problem fields whose values are themselves catalogue
// words: a field F with value v renders as the message "<prefix>v".
var translatedArgs = map[string]string{"Role": "role."}

// Error renders err for the user in l's language, on one line's worth of
// text. The first api.Problem in err's chain is said from the catalogue
// ("api.kind.*", "api.<ID>"); any English context around it is kept. An
// error without a Problem, or with an ID the catalogue lacks, is its
// English text, never empty.
func (l *Localizer) Error(err error) string {
	if err == nil {
		return ""
	}
	english := err.Error()
	p, ok := errors.AsType[*api.Problem](err)
	if !ok || p.ID == "" {
		return english
	}
	msg, ok := l.Problem(p)
	if !ok {
		return english
	}
	if i := strings.Index(english, p.Error()); i >= 0 {
		return english[:i] + msg + english[i+len(p.Error()):]
	}
	return msg
}

// Problem renders p in l's language; false if the catalogue lacks its ID.
func (l *Localizer) Problem(p *api.Problem) (string, bool) {
	data := make(map[string]any, len(p.Args))
	for k, v := range p.Args {
		data[k] = v
		if prefix, ok := translatedArgs[k]; ok {
			if t, ok := l.localize(prefix+v, nil); ok {
				data[k] = t
			}
		}
	}
	text, ok := l.localize("api."+p.ID, data)
	if !ok {
		return "", false
	}
	kind := api.KindID(p.Kind)
	if kind == "" {
		return text, true
	}
	k, _ := l.localize(kind, nil)
	return l.T("api.format", "Kind", k, "Msg", text), true
}

func (l *Localizer) localize(id string, data map[string]any) (string, bool) {
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	return s, err == nil
}
