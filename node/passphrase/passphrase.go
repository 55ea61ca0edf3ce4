// Package passphrase judges and generates the passphrases that protect a
// Lookout profile.
//
// Strength is estimated with zxcvbn (github.com/trustelem/zxcvbn, a Go port
// of Dropbox's estimator): it knows common passwords, names, dictionary
// words, keyboard patterns, dates and substitutions, and estimates how many
// guesses a cracker ordering its guesses well would need. Generated
// passphrases are words drawn uniformly with crypto/rand from a fixed list
// built from the same module's English word-frequency data.
package passphrase

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/frequency"
)

// MinLen is the shortest passphrase accepted, in characters.
const MinLen = 8

// MinGuesses is the fewest estimated guesses a passphrase must need
// (zxcvbn's score 3 and above). At one Argon2id derivation per
// 10 ms on a GPU-class attacker, 10^10 guesses take about three years.
const MinGuesses = 1e10

// Errors wrapped by Check.
var (
	ErrTooShort = errors.New("passphrase too short")
	ErrWeak     = errors.New("passphrase too easy to guess")
	ErrNotText  = errors.New("passphrase is not valid UTF-8 text")
)

// Check refuses a passphrase that is not text, shorter than MinLen
// characters, or estimated to fall to fewer than MinGuesses guesses.
// related are words the passphrase should not lean on (the user's name,
// "lookout"). Errors say why, never what the passphrase is.
func Check(p []byte, related ...string) error {
	if !utf8.Valid(p) {
		return ErrNotText
	}
	if n := utf8.RuneCount(p); n < MinLen {
		return fmt.Errorf("%w: %d characters, at least %d", ErrTooShort, n, MinLen)
	}
	inputs := append([]string{"lookout", "passphrase", "password"}, related...)
	// zxcvbn takes a string: one more copy of the passphrase on the heap,
	// unreachable after this call (see the threat model on memory).
	r := zxcvbn.PasswordStrength(string(p), inputs)
	if r.Guesses < MinGuesses {
		return fmt.Errorf("%w: about 10^%d guesses, want at least 10^%d", ErrWeak, int(math.Log10(math.Max(r.Guesses, 1))), int(math.Log10(MinGuesses)))
	}
	return nil
}

// Words is the size of the generator's word list: 12 bits per word.
const Words = 4096

// DefaultWords is how many words Generate is asked for by the CLI and the
// docs: 6 × 12 = 72 bits.
const DefaultWords = 6

var (
	listOnce sync.Once
	list     []string
)

// wordList returns the generator's words: the Words most frequent English
// words of 4 to 8 lowercase ASCII letters in zxcvbn's Wikipedia frequency
// list, in frequency order (fixed by the module version in go.sum).
func wordList() []string {
	listOnce.Do(func() {
		seen := map[string]bool{}
		for _, w := range frequency.FrequencyLists["english_wikipedia"] {
			if len(w) < 4 || len(w) > 8 || seen[w] || strings.TrimLeft(w, "abcdefghijklmnopqrstuvwxyz") != "" {
				continue
			}
			seen[w] = true
			list = append(list, w)
			if len(list) == Words {
				break
			}
		}
	})
	return list
}

// Generate returns n words drawn uniformly and independently from the word
// list with randomness from r (crypto/rand.Reader if nil), separated by
// spaces: n × 12 bits of entropy.
func Generate(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	words := wordList()
	if len(words) != Words {
		return "", fmt.Errorf("generate passphrase: word list has %d words, want %d", len(words), Words)
	}
	out := make([]string, n)
	max := big.NewInt(int64(len(words)))
	for i := range out {
		k, err := rand.Int(r, max)
		if err != nil {
			return "", fmt.Errorf("generate passphrase: random: %w", err)
		}
		out[i] = words[k.Int64()]
	}
	return strings.Join(out, " "), nil
}
