package main

import (
	"errors"
	"testing"
)

func TestCheckDisplay(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	for _, tc := range []struct {
		goos string
		vars map[string]string
		want error
	}{
		{"linux", nil, errNoDisplay},
		{"linux", map[string]string{"DISPLAY": ":0"}, nil},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, nil},
		{"freebsd", nil, errNoDisplay},
		{"darwin", nil, nil},
		{"windows", nil, nil},
	} {
		if err := checkDisplay(tc.goos, env(tc.vars)); !errors.Is(err, tc.want) {
			t.Errorf("checkDisplay(%s, %v) = %v, want %v", tc.goos, tc.vars, err, tc.want)
		}
	}
}
