package protocol

import (
	"testing"
	"time"
)

// go test ./protocol -run '^$' -bench . -benchmem

func BenchmarkSign(b *testing.B) {
	f := fx(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(f.member, f.memberChain, newSighting()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	f := fx(b)
	s := mustSign(b, f.member, f.memberChain, newSighting())
	r := testReader(7)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(f.key, testEpoch, s, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	f := fx(b)
	env := mustSeal(b, f.key, mustSign(b, f.member, f.memberChain, newSighting()), testReader(7))
	b.SetBytes(int64(len(env)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(f.key, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyChainUncached verifies a 2-certificate chain with an empty
// cache each time: two composite signature checks.
func BenchmarkVerifyChainUncached(b *testing.B) {
	f := fx(b)
	b.ReportAllocs()
	for b.Loop() {
		cv := &ChainVerifier{Zone: testZone, Root: f.founder.Public()}
		if _, err := cv.Verify(f.memberChain, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateCachedChain is the whole per-message path of a node for
// a sender seen before: size, decrypt, decode, cached chain, one composite
// signature check, role and time rules.
func BenchmarkValidateCachedChain(b *testing.B) {
	f := fx(b)
	env := mustSeal(b, f.key, mustSign(b, f.member, f.memberChain, newSighting()), testReader(7))
	v := f.validator()
	now := t0.Add(time.Minute)
	if _, err := v.Validate(env, now); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(env)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(env, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateUncachedChain is the same with a cold cache, for
// comparison: three composite signature checks.
func BenchmarkValidateUncachedChain(b *testing.B) {
	f := fx(b)
	env := mustSeal(b, f.key, mustSign(b, f.member, f.memberChain, newSighting()), testReader(7))
	now := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.validator().Validate(env, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFold(b *testing.B) {
	f := newStateFixture(b, RoleMember)
	root := f.sighting
	ups := make([]*Message, 0, 50)
	for i := range 50 {
		role := RoleMember
		if i == 49 {
			role = RoleVerifier
		}
		ups = append(ups, f.confirm(root, mid(byte(10+i)), role, at(time.Duration(i)*time.Minute)))
	}
	roots := []*Message{root}
	now := at(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if v := Fold(roots, ups, DefaultSettings(), nil, now); v.State != StateVerified || len(v.Confirmers) != 51 {
			b.Fatalf("state %s, %d confirmers", v.State, len(v.Confirmers))
		}
	}
}

// BenchmarkFoldIncident folds an incident of 5 sightings with 50 confirms
// spread over them, with a removed-member check on every message.
func BenchmarkFoldIncident(b *testing.B) {
	f := newStateFixture(b, RoleMember)
	roots := []*Message{f.sighting}
	for i := 1; i < 5; i++ {
		roots = append(roots, f.report(mid(byte(100+i)), RoleMember, placeA2, at(time.Duration(i)*time.Minute)))
	}
	ups := make([]*Message, 0, 50)
	for i := range 50 {
		role := RoleMember
		if i == 49 {
			role = RoleVerifier
		}
		ups = append(ups, f.confirm(roots[i%5], mid(byte(10+i)), role, at(time.Duration(5+i)*time.Minute)))
	}
	removed := removedSet(mallory)
	now := at(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if v := Fold(roots, ups, DefaultSettings(), removed, now); v.State != StateVerified || len(v.Confirmers) != 55 || len(v.Sightings) != 5 {
			b.Fatalf("state %s, %d confirmers", v.State, len(v.Confirmers))
		}
	}
}

// BenchmarkFoldRoster folds a zone of 200 members (and the root and the
// granting organizer): an announcement and a sighting from each, 20 role
// grants, 5 removals and 3 settings changes.
func BenchmarkFoldRoster(b *testing.B) {
	w := newRosterWorld(b, 200, 20)
	b.ReportAllocs()
	for b.Loop() {
		r := FoldRoster(w.msgs, w.root, DefaultSettings())
		if len(r.Members) != 202 || r.Settings.Corroborations != 3 {
			b.Fatalf("%d members, settings %+v", len(r.Members), r.Settings)
		}
	}
}
