package app

import (
	"os"
	"strings"
	"sync"

	"fyne.io/fyne/v2/lang"

	"lookout/app/i18n"
)

// Languages the app is translated into, as offered on the first screen and
// in Settings. Until one is chosen the app follows the system's.
var languages = []string{"en", "fr", "es"}

const (
	prefLanguage      = "language"
	prefNotifications = "notifications-off"
)

var (
	langMu  sync.Mutex
	sysEnv  map[string]*string // the process's own locale variables
	envVars = []string{"LANGUAGE", "LC_ALL"}
	tr      = i18n.New("en") // the app's language; guarded by langMu
)

// loadTranslations selects code ("" for the system language) for the
// app's texts, which come from the catalogue shared with the command line
// (app/i18n). The catalogue is also registered with fyne/lang, for Fyne's
// own widgets: fyne/lang chooses its language from the environment
// (LANGUAGE, LC_ALL, …) whenever translations are added, so a chosen
// language is set there; the system's values are kept to go back.
func loadTranslations(code string) {
	langMu.Lock()
	defer langMu.Unlock()
	if sysEnv == nil {
		sysEnv = map[string]*string{}
		for _, k := range envVars {
			if v, ok := os.LookupEnv(k); ok {
				sysEnv[k] = &v
			} else {
				sysEnv[k] = nil
			}
		}
	}
	for _, k := range envVars {
		switch v := sysEnv[k]; {
		case code != "":
			os.Setenv(k, code)
		case v != nil:
			os.Setenv(k, *v)
		default:
			os.Unsetenv(k)
		}
	}
	if err := lang.AddTranslationsFS(i18n.Files, i18n.Dir); err != nil {
		// The files are embedded and checked by tests; this cannot fail
		// at run time unless the binary is corrupt.
		panic("load embedded translations: " + err.Error())
	}
	if code != "" {
		tr = i18n.New(code)
		return
	}
	// The system's language, as fyne/lang reads it: LANGUAGE (a list),
	// then the POSIX variables.
	var locales []string
	for _, k := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			locales = append(locales, strings.Split(v, ":")...)
		}
	}
	tr = i18n.New(locales...)
}

// localizer is the app's current language.
func localizer() *i18n.Localizer {
	langMu.Lock()
	defer langMu.Unlock()
	return tr
}

// pairs turns template data (maps, as the app passes it) into the
// name, value pairs app/i18n takes.
func pairs(data []any) []any {
	var out []any
	for _, d := range data {
		if m, ok := d.(map[string]any); ok {
			for k, v := range m {
				out = append(out, k, v)
			}
		}
	}
	return out
}

// PrepareLocale gives the process a language Fyne can parse when the
// system's is the C or POSIX locale (as in containers and minimal
// sessions), where Fyne logs an error at every start: English, as a C
// locale means. Call it before the fyne.App is made.
func PrepareLocale() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		if base, _, _ := strings.Cut(v, "."); base == "C" || base == "POSIX" {
			os.Setenv("LANGUAGE", "en")
		}
		return
	}
}

// L returns the translation of key, filled in from data (a map).
func L(key string, data ...any) string { return localizer().T(key, pairs(data)...) }

// N returns the plural form of key for count, filled in from data.
func N(key string, count int, data ...any) string {
	return localizer().N(key, count, pairs(data)...)
}

// args is template data for L and N.
type args = map[string]any
