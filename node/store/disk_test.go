package store

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// encodings returns s and the ways it could appear encoded in a file:
// hex (both cases) and base64 (four alphabets, at each of the three
// alignments s could have inside a longer encoded string).
func encodings(s []byte) map[string][]byte {
	out := map[string][]byte{
		"raw":       s,
		"hex":       []byte(hex.EncodeToString(s)),
		"HEX":       []byte(strings.ToUpper(hex.EncodeToString(s))),
		"lowercase": bytes.ToLower(s),
	}
	encs := map[string]*base64.Encoding{
		"base64": base64.StdEncoding, "base64url": base64.URLEncoding,
		"rawbase64": base64.RawStdEncoding, "rawbase64url": base64.RawURLEncoding,
	}
	for name, enc := range encs {
		for off := 0; off < 3; off++ {
			part := s[off:]
			part = part[:len(part)/3*3] // whole 3-byte groups: encoded the same anywhere
			out[name+string(rune('0'+off))] = []byte(enc.EncodeToString(part))
		}
	}
	return out
}

// assertAbsent fails if any secret, in any encoding, occurs in any file
// under home.
func assertAbsent(t *testing.T, stage, home string, secrets map[string][]byte) {
	t.Helper()
	fs := files(t, home)
	total := 0
	for p, b := range fs {
		total += len(b)
		for what, s := range secrets {
			for enc, needle := range encodings(s) {
				if bytes.Contains(b, needle) {
					t.Errorf("%s: %s (%s) found in %s", stage, what, enc, filepath.Base(p))
				}
			}
		}
	}
	t.Logf("%s: scanned %d files, %d bytes", stage, len(fs), total)
}

// TestDiskImage stores distinctive personal data and checks that no byte
// of any file in home reveals it, at each stage of the store's life.
func TestDiskImage(t *testing.T) {
	home := t.TempDir()
	passphrase := []byte("Tamarind-Orchard-Lantern-42")
	duress := []byte("Quiet-Harbour-Seventeen")
	secrets := map[string][]byte{
		"zone secret":   []byte("ZS\x9c\x01\xfe\x42zone-secret-7Hq2Vx9Lm4Rt"),
		"alert text":    []byte("ICE vans outside the laundromat on Alder St, 3 agents"),
		"member name":   []byte("Guadalupe Xochitl Ramirez-Okonkwo"),
		"zone ID":       []byte("zone-5b1e9c7a0d3f4e21"),
		"alert ID":      []byte("alert-0f9e8d7c6b5a4938"),
		"zone name":     []byte("Riverside Tenants Union"),
		"passphrase":    passphrase,
		"duress phrase": duress,
	}
	s, err := Create(home, Secret{Passphrase: passphrase}, &Secret{Passphrase: duress}, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	zoneRec := append(append([]byte(`{"id":"zone-5b1e9c7a0d3f4e21","name":"Riverside Tenants Union","secret":"`), secrets["zone secret"]...), `"}`...)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Put("zones", string(secrets["zone ID"]), zoneRec))
	must(s.Put("profile", "name", secrets["member name"]))
	must(s.Put("members", string(secrets["member name"]), []byte("organizer")))
	must(s.PutExpiring("alerts", string(secrets["alert ID"]), secrets["alert text"], time.Now().Add(time.Hour)))
	must(s.PutExpiring("replay", string(secrets["alert ID"]), []byte{1}, time.Now().Add(time.Hour)))
	// Overwrites and deletes leave old versions in free pages.
	must(s.Put("profile", "name", []byte("someone else")))
	must(s.Put("profile", "name", secrets["member name"]))
	must(s.Put("scratch", "x", secrets["alert text"]))
	must(s.Delete("scratch", "x"))
	assertAbsent(t, "open", home, secrets)
	must(s.Close())
	assertAbsent(t, "closed", home, secrets)

	s = reopen(t, home, Secret{Passphrase: passphrase})
	mustGet(t, s, "profile", "name", secrets["member name"])
	must(s.Compact())
	assertAbsent(t, "compacted", home, secrets)
	if _, err := s.DeleteExpired(time.Now().Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	assertAbsent(t, "expired", home, secrets)
	s.Close()

	must(ChangeSecret(home, Secret{Passphrase: passphrase}, Secret{Passphrase: []byte("Another-Long-Passphrase")}, testOpt))
	assertAbsent(t, "secret changed", home, secrets)

	must(Wipe(home))
	if left := files(t, home); len(left) != 0 {
		t.Errorf("%d files left after Wipe", len(left))
	}
	assertAbsent(t, "wiped", home, secrets)
}

// The scan would catch the secrets if they were stored in the clear or
// encoded: each encoding embedded in a longer string is found.
func TestScannerCatches(t *testing.T) {
	secret := []byte("Guadalupe Xochitl Ramirez-Okonkwo")
	for prefix := 0; prefix < 3; prefix++ {
		data := append(bytes.Repeat([]byte{'#'}, prefix), secret...)
		data = append(data, "!tail"...)
		for _, enc := range []string{
			string(data),
			hex.EncodeToString(data),
			base64.StdEncoding.EncodeToString(data),
			base64.RawURLEncoding.EncodeToString(data),
		} {
			found := false
			for _, needle := range encodings(secret) {
				if strings.Contains(enc, string(needle)) {
					found = true
				}
			}
			if !found {
				t.Errorf("secret at offset %d not found in %q", prefix, enc)
			}
		}
	}
}
