package protocol

import (
	"bytes"
	"errors"
	"testing"
)

func TestGoldenPeerRecords(t *testing.T) {
	recs := [][]byte{[]byte("first signed record"), {0x0a, 0x24, 0x08, 0x01}}
	b := AppendPeerRecords(nil, recs)
	checkGoldenHex(t, "peer_records", "member addresses answer: version 1 | 2 records | (u16 len | signed peer record) each\nrecords are opaque here: \"first signed record\" and 0a 24 08 01", b)
	got, err := ReadPeerRecords(bytes.NewReader(b))
	if err != nil || len(got) != 2 || !bytes.Equal(got[0], recs[0]) || !bytes.Equal(got[1], recs[1]) {
		t.Errorf("round trip: %q, %v", got, err)
	}
}

// TestPeerRecordsLimits: the encoder leaves out what a decoder refuses;
// the decoder refuses every frame over a limit, cut short or of another
// version.
func TestPeerRecordsLimits(t *testing.T) {
	many := make([][]byte, MaxPeerRecords+5)
	for i := range many {
		many[i] = []byte{byte(i)}
	}
	many[0] = nil                               // empty: left out
	many[1] = make([]byte, MaxPeerRecordSize+1) // too large: left out
	got, err := ReadPeerRecords(bytes.NewReader(AppendPeerRecords(nil, many)))
	if err != nil || len(got) != MaxPeerRecords || got[0][0] != 2 {
		t.Fatalf("capped frame: %d records (first %v), %v; want %d from the third", len(got), got[0], err, MaxPeerRecords)
	}
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"other version":   {[]byte{PeersVersion + 1, 0}, ErrVersion},
		"too many":        {[]byte{PeersVersion, MaxPeerRecords + 1}, ErrTooLarge},
		"empty record":    {[]byte{PeersVersion, 1, 0, 0}, ErrTooLarge},
		"record too long": {[]byte{PeersVersion, 1, 0x08, 0x01}, ErrTooLarge},
		"no header":       {[]byte{PeersVersion}, ErrTruncated},
		"record cut":      {[]byte{PeersVersion, 1, 0, 3, 1, 2}, ErrTruncated},
		"length cut":      {[]byte{PeersVersion, 2, 0, 1, 9, 0}, ErrTruncated},
	} {
		if _, err := ReadPeerRecords(bytes.NewReader(c.b)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// FuzzReadPeerRecords: the decoder never panics on untrusted bytes, and
// what it accepts encodes back to the bytes it read.
func FuzzReadPeerRecords(f *testing.F) {
	f.Add(AppendPeerRecords(nil, [][]byte{[]byte("record"), {1}}))
	f.Add([]byte{PeersVersion, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		got, err := ReadPeerRecords(r)
		if err != nil {
			return
		}
		if used := b[:len(b)-r.Len()]; !bytes.Equal(AppendPeerRecords(nil, got), used) {
			t.Fatalf("records %x re-encode differently", used)
		}
	})
}
