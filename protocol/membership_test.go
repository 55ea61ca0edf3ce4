package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"lookout/crypto"
)

var (
	memberSecret = crypto.ZoneSecret{0x02, 0x02, 0x02}
	memberProver = []byte("prover peer id")
	memberVerif  = []byte("verifier peer id")
)

func memberNonces() (a, b [MembershipNonceSize]byte) {
	for i := range a {
		a[i] = 0xa0
		b[i] = 0xb0
	}
	return a, b
}

func goldenMembershipProof(t testing.TB) (*MembershipProof, [MembershipTagSize]byte) {
	t.Helper()
	na, nb := memberNonces()
	tag := MembershipTag(memberSecret.ProofKey(7), memberProver, memberVerif, na, nb)
	p, err := NewMembershipProof([][MembershipTagSize]byte{tag}, testReader(0x31))
	if err != nil {
		t.Fatal(err)
	}
	return p, tag
}

func TestGoldenMembership(t *testing.T) {
	na, _ := memberNonces()
	checkGoldenHex(t, "membership_hello", "membership hello: version 1, nonce a0×32; see docs/protocol.md \"Membership proof\"",
		AppendMembershipHello(nil, na))
	p, tag := goldenMembershipProof(t)
	checkGoldenHex(t, "membership_tag", "membership tag: proof key of zone secret 0202020000… epoch 7, prover \"prover peer id\",\nverifier \"verifier peer id\", prover nonce a0×32, verifier nonce b0×32",
		tag[:])
	checkGoldenHex(t, "membership_proof", "membership proof: the tag above in one of 64 slots, the others random (test reader 0x31)",
		p.MarshalBinary())
}

func TestMembershipHelloRoundTrip(t *testing.T) {
	na, _ := memberNonces()
	got, err := ParseMembershipHello(AppendMembershipHello(nil, na))
	if err != nil || got != na {
		t.Fatalf("round trip: %x, %v", got, err)
	}
}

func TestMembershipHelloRejects(t *testing.T) {
	na, _ := memberNonces()
	good := AppendMembershipHello(nil, na)
	badVersion := bytes.Clone(good)
	badVersion[0] = MembershipVersion + 1
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short", good[:MembershipHelloSize-1], ErrTruncated},
		{"long", append(bytes.Clone(good), 0), ErrTrailing},
		{"version", badVersion, ErrVersion},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseMembershipHello(c.b); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestMembershipProofRejects(t *testing.T) {
	p, _ := goldenMembershipProof(t)
	b := p.MarshalBinary()
	if _, err := ParseMembershipProof(b[:len(b)-1]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short: %v", err)
	}
	if _, err := ParseMembershipProof(append(bytes.Clone(b), 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("long: %v", err)
	}
	tags := make([][MembershipTagSize]byte, MembershipSlots+1)
	if _, err := NewMembershipProof(tags, testReader(1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too many tags: %v", err)
	}
	if _, err := NewMembershipProof(nil, bytes.NewReader(nil)); err == nil {
		t.Fatal("no error when the random source fails")
	}
	if err := CheckMembershipAck(MembershipAck); err != nil {
		t.Fatal(err)
	}
	if err := CheckMembershipAck(0); !errors.Is(err, ErrEnum) {
		t.Fatalf("bad ack: %v", err)
	}
}

// A proof holds exactly its tags; the binding to key, direction, peer IDs
// and nonces leaves every other tag out.
func TestMembershipProofBinding(t *testing.T) {
	p, tag := goldenMembershipProof(t)
	q, err := ParseMembershipProof(p.MarshalBinary())
	if err != nil {
		t.Fatal(err)
	}
	if !q.Contains(tag) {
		t.Fatal("proof does not contain its tag")
	}
	na, nb := memberNonces()
	key := memberSecret.ProofKey(7)
	other := crypto.ZoneSecret{0x03}
	for name, tg := range map[string][MembershipTagSize]byte{
		"other epoch":      MembershipTag(memberSecret.ProofKey(6), memberProver, memberVerif, na, nb),
		"other zone":       MembershipTag(other.ProofKey(7), memberProver, memberVerif, na, nb),
		"reflected":        MembershipTag(key, memberVerif, memberProver, na, nb),
		"swapped nonces":   MembershipTag(key, memberProver, memberVerif, nb, na),
		"other verifier":   MembershipTag(key, memberProver, []byte("someone else"), na, nb),
		"shifted id bytes": MembershipTag(key, []byte("prover peer i"), []byte("dverifier peer id"), na, nb),
	} {
		if q.Contains(tg) {
			t.Errorf("%s: proof contains a tag it should not", name)
		}
	}
}

// With every slot used each tag is found; slots are a permutation.
func TestMembershipProofFull(t *testing.T) {
	tags := make([][MembershipTagSize]byte, MembershipSlots)
	for i := range tags {
		if _, err := io.ReadFull(testReader(byte(i)), tags[i][:]); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewMembershipProof(tags, testReader(9))
	if err != nil {
		t.Fatal(err)
	}
	for i, tg := range tags {
		if !p.Contains(tg) {
			t.Fatalf("tag %d missing", i)
		}
	}
}

func FuzzParseMembershipHello(f *testing.F) {
	na, _ := memberNonces()
	seedBytes(f, AppendMembershipHello(nil, na))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseMembershipHello(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if !bytes.Equal(AppendMembershipHello(nil, n), b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzParseMembershipProof(f *testing.F) {
	p, tag := goldenMembershipProof(f)
	seedBytes(f, p.MarshalBinary())
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseMembershipProof(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if !bytes.Equal(q.MarshalBinary(), b) {
			t.Fatal("re-encoding differs")
		}
		q.Contains(tag)
	})
}
