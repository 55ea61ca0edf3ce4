package store

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkPut(b *testing.B) {
	s := mkStore(b, b.TempDir())
	defer s.Close()
	v := bytes.Repeat([]byte("x"), 256)
	i := 0
	for b.Loop() {
		if err := s.Put("alerts", fmt.Sprint(i%1000), v); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGet(b *testing.B) {
	s := mkStore(b, b.TempDir())
	defer s.Close()
	v := bytes.Repeat([]byte("x"), 256)
	for i := range 1000 {
		if err := s.Put("alerts", fmt.Sprint(i), v); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.Get("alerts", fmt.Sprint(i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkUnlock measures Open with the default KDF parameters.
func BenchmarkUnlock(b *testing.B) {
	home := b.TempDir()
	s, err := Create(home, pass("correct horse"), nil, Options{FailureDelay: -1})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := Open(home, pass("correct horse"), Options{FailureDelay: -1})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
