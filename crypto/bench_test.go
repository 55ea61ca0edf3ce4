package crypto

import "testing"

const benchMessageSize = 1024

func BenchmarkSign(b *testing.B) {
	id := testIdentity(b, 1)
	msg := testBytes(1, benchMessageSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := id.Sign("bench", msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	id := testIdentity(b, 1)
	msg := testBytes(1, benchMessageSize)
	sig, _ := id.Sign("bench", msg)
	pk := id.Public()
	b.ReportAllocs()
	for b.Loop() {
		if err := pk.Verify("bench", msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAEADSeal1KiB(b *testing.B) {
	k := testZone(1).AlertKey(0)
	nonce, pt := testBytes(2, NonceSize), testBytes(3, benchMessageSize)
	buf := make([]byte, 0, benchMessageSize+Overhead)
	b.SetBytes(benchMessageSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(buf[:0], nonce, pt, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAEADOpen1KiB(b *testing.B) {
	k := testZone(1).AlertKey(0)
	nonce, pt := testBytes(2, NonceSize), testBytes(3, benchMessageSize)
	ct, _ := k.Seal(nil, nonce, pt, nil)
	buf := make([]byte, 0, benchMessageSize)
	b.SetBytes(benchMessageSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(buf[:0], nonce, ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHPKESeal(b *testing.B) {
	pub := testKEMKey(b, 1).PublicBytes()
	r := testReader(4)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SealTo(pub, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD, hpkeMsg, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHPKEOpen(b *testing.B) {
	k := testKEMKey(b, 1)
	enc, ct, _ := SealTo(k.PublicBytes(), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD, hpkeMsg, testReader(4))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(enc, ct, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); err != nil {
			b.Fatal(err)
		}
	}
}
