package protocol

import (
	"fmt"

	"lookout/crypto"
)

// Signed is an alert with its sender's certificate chain and composite
// signature: the plaintext inside an envelope.
type Signed struct {
	Chain Chain
	Body  []byte // canonical alert encoding, the signed bytes
	Sig   []byte
	Alert *Alert // decoded Body
	ID    AlertID
}

// Sign encodes the alert, signs it with id and attaches chain. The chain's
// leaf must certify id's public key.
func Sign(id *crypto.Identity, chain Chain, a *Alert) (*Signed, error) {
	if len(chain) == 0 || len(chain) > MaxChainLen {
		return nil, fmt.Errorf("sign alert: %w: %d certificates", ErrChain, len(chain))
	}
	if !chain.Leaf().Subject.Equal(id.Public()) {
		return nil, fmt.Errorf("sign alert: %w: leaf certificate is for another member", ErrChain)
	}
	a.Sender = id.ID()
	// Keep only what the encoding keeps, so that s.Alert equals what every
	// receiver decodes from s.Body (Fold orders by Sent).
	a.Sent, a.Expires, a.Observed = truncMilli(a.Sent), truncMilli(a.Expires), truncMilli(a.Observed)
	body, err := a.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("sign alert: %w", err)
	}
	sig, err := id.Sign(ContextAlert, signedMessage(chain.Leaf(), body))
	if err != nil {
		return nil, fmt.Errorf("sign alert: %w", err)
	}
	return &Signed{Chain: chain, Body: body, Sig: sig, Alert: a, ID: ComputeAlertID(body)}, nil
}

// MarshalBinary encodes the signed alert:
//
//	u8 version | u8 n | n × (u16 len | cert) | u16 len | body | signature
func (s *Signed) MarshalBinary() ([]byte, error) {
	if len(s.Chain) == 0 || len(s.Chain) > MaxChainLen {
		return nil, fmt.Errorf("encode signed alert: %w: %d certificates", ErrChain, len(s.Chain))
	}
	if len(s.Body) > MaxBodySize || len(s.Sig) != crypto.SignatureSize {
		return nil, fmt.Errorf("encode signed alert: %w", ErrTooLarge)
	}
	w := writer{b: make([]byte, 0, 2+len(s.Chain)*(2+CertSize)+2+len(s.Body)+len(s.Sig))}
	w.u8(Version)
	w.u8(uint8(len(s.Chain)))
	for _, c := range s.Chain {
		w.bytes16(c.Bytes())
	}
	w.bytes16(s.Body)
	w.raw(s.Sig)
	return w.b, nil
}

// ParseSigned decodes a signed alert without verifying anything but its
// structure. b may be followed by zero padding of less than PadBlock bytes.
func ParseSigned(b []byte) (*Signed, error) { return parseSigned(b, nil) }

func parseSigned(b []byte, certs *CertCache) (*Signed, error) {
	if len(b) > MaxSignedSize+PadBlock {
		return nil, fmt.Errorf("decode signed alert: %w: %d bytes", ErrTooLarge, len(b))
	}
	r := reader{b: b, where: "signed alert"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("decode signed alert: %w: %d", ErrVersion, v)
	}
	n := int(r.u8("chain length"))
	if r.err == nil && (n == 0 || n > MaxChainLen) {
		return nil, fmt.Errorf("decode signed alert: %w: %d certificates", ErrChain, n)
	}
	s := &Signed{}
	for i := 0; i < n && r.err == nil; i++ {
		cb := r.bytes16("certificate", CertSize)
		if r.err != nil {
			break
		}
		c, err := certs.parse(cb)
		if err != nil {
			return nil, fmt.Errorf("decode signed alert: certificate %d: %w", i, err)
		}
		s.Chain = append(s.Chain, c)
	}
	s.Body = r.bytes16("body", MaxBodySize)
	s.Sig = append([]byte(nil), r.take(crypto.SignatureSize, "signature")...)
	if r.err != nil {
		return nil, fmt.Errorf("decode signed alert: %w", r.err)
	}
	pad := b[r.off:]
	if len(pad) >= PadBlock {
		return nil, fmt.Errorf("decode signed alert: %w: %d bytes after the signature", ErrBadPadding, len(pad))
	}
	for _, c := range pad {
		if c != 0 {
			return nil, fmt.Errorf("decode signed alert: %w: non-zero byte", ErrBadPadding)
		}
	}
	a, err := ParseAlert(s.Body)
	if err != nil {
		return nil, fmt.Errorf("decode signed alert: %w", err)
	}
	s.Alert = a
	s.ID = ComputeAlertID(s.Body)
	return s, nil
}

// verify checks the signature against the leaf certificate's subject.
func (s *Signed) verify() error {
	leaf := s.Chain.Leaf()
	if leaf.Subject.ID() != s.Alert.Sender {
		return fmt.Errorf("%w: sender is not the leaf certificate's subject", ErrChain)
	}
	if err := leaf.Subject.Verify(ContextAlert, signedMessage(leaf, s.Body), s.Sig); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return nil
}

// pad appends zeros up to the next multiple of PadBlock.
func pad(b []byte) []byte {
	n := PadBlock - len(b)%PadBlock
	if n == PadBlock {
		return b
	}
	return append(b, make([]byte, n)...)
}

// signedMessage is what an alert's signature covers: the SHA-256 of the
// leaf certificate, then the body. Binding the leaf means an alert cannot
// be re-sent with another certificate of the same member (say an old
// verifier certificate), so every node judges it under the same role.
func signedMessage(leaf *Cert, body []byte) []byte {
	h := leaf.Hash()
	m := make([]byte, 0, len(h)+len(body))
	m = append(m, h[:]...)
	return append(m, body...)
}
