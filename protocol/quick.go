package protocol

import (
	"fmt"
	"strings"
)

// WhatCode is a quick-report code for what a sighting shows. Codes cross
// the wire as numbers and each reader's interface shows them in its own
// language; 0 means no code was chosen.
type WhatCode uint8

const (
	WhatNone       WhatCode = 0
	WhatDoor       WhatCode = 1 // officers at a door
	WhatVehicle    WhatCode = 2 // vehicle parked
	WhatArrest     WhatCode = 3 // arrest in progress
	WhatCheckpoint WhatCode = 4 // checkpoint
	WhatFoot       WhatCode = 5 // officers on foot
)

// WhatCodes lists the what codes in the order interfaces offer them.
var WhatCodes = []WhatCode{WhatDoor, WhatVehicle, WhatArrest, WhatCheckpoint, WhatFoot}

var whatNames = map[WhatCode]string{WhatDoor: "door", WhatVehicle: "vehicle", WhatArrest: "arrest", WhatCheckpoint: "checkpoint", WhatFoot: "foot"}

// String is the code's stable name ("door", …), or "" for WhatNone.
func (c WhatCode) String() string { return whatNames[c] }

// ParseWhatCode parses a what code's name; "" is WhatNone.
func ParseWhatCode(s string) (WhatCode, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return WhatNone, nil
	}
	for _, c := range WhatCodes {
		if whatNames[c] == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: what code %q (use door, vehicle, arrest, checkpoint or foot)", ErrEnum, s)
}

// UniformCode is a quick-report code for how the officers are dressed;
// 0 means not given.
type UniformCode uint8

const (
	UniformNone   UniformCode = 0
	UniformMarked UniformCode = 1 // marked uniforms
	UniformPlain  UniformCode = 2 // plain clothes
)

// UniformCodes lists the uniform codes in the order interfaces offer them.
var UniformCodes = []UniformCode{UniformMarked, UniformPlain}

var uniformNames = map[UniformCode]string{UniformMarked: "marked", UniformPlain: "plain"}

// String is the code's stable name ("marked", "plain"), or "" for UniformNone.
func (c UniformCode) String() string { return uniformNames[c] }

// ParseUniformCode parses "marked" or "plain"; "" is UniformNone.
func ParseUniformCode(s string) (UniformCode, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return UniformNone, nil
	}
	for _, c := range UniformCodes {
		if uniformNames[c] == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: uniform code %q (use marked or plain)", ErrEnum, s)
}

// Quick holds a sighting's quick-report codes (version 3). How many
// officers is the sighting's Size. The zero value means no codes.
type Quick struct {
	What     WhatCode
	Uniform  UniformCode
	Vehicles uint16 // vehicles seen, 0 = not given, at most MaxVehicles
}

// IsZero reports whether no code is set.
func (q Quick) IsZero() bool { return q == Quick{} }

// ParseQuick builds codes from their names and a vehicle count, as the
// control API carries them.
func ParseQuick(what, uniform string, vehicles int) (Quick, error) {
	w, err := ParseWhatCode(what)
	if err != nil {
		return Quick{}, err
	}
	u, err := ParseUniformCode(uniform)
	if err != nil {
		return Quick{}, err
	}
	if vehicles < 0 || vehicles > MaxVehicles {
		return Quick{}, &FieldError{Field: "vehicles", Err: fmt.Errorf("%w: 0 to %d", ErrEnum, MaxVehicles)}
	}
	return Quick{What: w, Uniform: u, Vehicles: uint16(vehicles)}, nil
}

func (q Quick) validate() error {
	switch {
	case q.What > WhatFoot:
		return &FieldError{Field: "what code", Err: fmt.Errorf("%w: %d", ErrEnum, q.What)}
	case q.Uniform > UniformPlain:
		return &FieldError{Field: "uniform code", Err: fmt.Errorf("%w: %d", ErrEnum, q.Uniform)}
	case q.Vehicles > MaxVehicles:
		return &FieldError{Field: "vehicles", Err: fmt.Errorf("%w: at most %d", ErrEnum, MaxVehicles)}
	}
	return nil
}

func (q Quick) encode(w *writer) {
	w.u8(uint8(q.What))
	w.u8(uint8(q.Uniform))
	w.u16(q.Vehicles)
}

func parseQuick(r *reader) Quick {
	return Quick{What: WhatCode(r.u8("what code")), Uniform: UniformCode(r.u8("uniform code")), Vehicles: r.u16("vehicles")}
}
