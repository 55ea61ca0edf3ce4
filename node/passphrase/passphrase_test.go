package passphrase_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"lookout/node/passphrase"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want error
	}{
		{"password", passphrase.ErrWeak},
		{"12345678", passphrase.ErrWeak},
		{"qwertyuiop", passphrase.ErrWeak},
		{"P@ssw0rd1", passphrase.ErrWeak},
		{"lookout123", passphrase.ErrWeak},
		{"ada lovelace", passphrase.ErrWeak}, // the user's own name
		{"montreal2026", passphrase.ErrWeak},
		{"xq7#", passphrase.ErrTooShort},
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", passphrase.ErrNotText},
		{"long enough passphrase", nil},
		{"correct horse battery staple", nil},
		{"rivière gelée sous le pont", nil},
	} {
		err := passphrase.Check([]byte(tc.p), "ada", "lovelace")
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Check(%q) = %v, want %v", tc.p, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), tc.p) {
			t.Errorf("Check(%q) error %q repeats the passphrase", tc.p, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	r := rand.NewChaCha8([32]byte{1})
	seen := map[string]bool{}
	for range 200 {
		p, err := passphrase.Generate(r, passphrase.DefaultWords)
		if err != nil {
			t.Fatal(err)
		}
		words := strings.Fields(p)
		if len(words) != passphrase.DefaultWords {
			t.Fatalf("Generate gave %q, want %d words", p, passphrase.DefaultWords)
		}
		for _, w := range words {
			if len(w) < 4 || len(w) > 8 || strings.ToLower(w) != w {
				t.Errorf("word %q outside the list's rules (4-8 lowercase letters)", w)
			}
			seen[w] = true
		}
		if err := passphrase.Check([]byte(p)); err != nil {
			t.Errorf("a generated passphrase is refused by Check: %v", err)
		}
	}
	// 1200 draws from 4096 words: about 1040 distinct expected; far fewer
	// means the draw is not spread over the list.
	if len(seen) < 900 {
		t.Errorf("1200 drawn words hold only %d distinct ones", len(seen))
	}
}

// TestGenerateFailsOnRandomError checks that a broken random source gives
// an error, not a predictable passphrase.
func TestGenerateFailsOnRandomError(t *testing.T) {
	if p, err := passphrase.Generate(strings.NewReader(""), 6); err == nil {
		t.Fatalf("Generate with an empty random source returned %q", p)
	}
}
