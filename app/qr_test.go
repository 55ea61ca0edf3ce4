package app

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"math/rand/v2"
	"testing"
)

// TestQRRoundTripLongCodes: invite codes that name several members' nodes
// run to hundreds of characters; every one drawn reads back. Before the
// reader tried the picture as a clean code first, about one in twenty
// did not (gozxing's finder-pattern search missed it).
func TestQRRoundTripLongCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{300, 600, 900} {
		for i := range 30 {
			b := make([]byte, n*3/4)
			for j := range b {
				b[j] = byte(r.IntN(256))
			}
			code := "lk1-" + base64.RawURLEncoding.EncodeToString(b)
			img, err := qrImage(code)
			if err != nil {
				t.Fatalf("%d characters: %v", len(code), err)
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if got, err := decodeQR(&buf); err != nil || got != code {
				t.Errorf("code %d of %d characters reads %q, %v", i, len(code), got, err)
			}
		}
	}
}
