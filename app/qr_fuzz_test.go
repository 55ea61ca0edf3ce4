package app

import (
	"bytes"
	"image/png"
	"testing"
)

// FuzzDecodeQR feeds arbitrary files to the invite QR reader, which reads
// pictures a member opens: it must return an error, never panic.
func FuzzDecodeQR(f *testing.F) {
	img, err := qrImage("lookout1:seed")
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		text, err := decodeQR(bytes.NewReader(b))
		if err == nil && text == "" {
			t.Error("decodeQR returned no text and no error")
		}
	})
}
