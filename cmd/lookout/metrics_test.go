package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

// TestMetricsFlags: `lookout node --metrics` takes a loopback host:port,
// refuses any other address unless --metrics-public says so, and refuses
// what is not host:port either way.
func TestMetricsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" when accepted
	}{
		{nil, ""},
		{[]string{"--metrics", "127.0.0.1:9719"}, ""},
		{[]string{"--metrics", "[::1]:0"}, ""},
		{[]string{"--metrics", "localhost:9719"}, ""},
		{[]string{"--metrics", "0.0.0.0:9719"}, "not a loopback address: metrics tell who is connected and when; serve them on 127.0.0.1 and scrape through an SSH tunnel, or pass --metrics-public"},
		{[]string{"--metrics", "192.168.1.5:9719"}, "not a loopback address"},
		{[]string{"--metrics", "0.0.0.0:9719", "--metrics-public"}, ""},
		{[]string{"--metrics", "192.168.1.5", "--metrics-public"}, "not host:port"},
		{[]string{"--metrics", "127.0.0.1"}, "not host:port"},
	} {
		fs := flag.NewFlagSet("node", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		mf := addMetricsFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := mf.check()
		var ue *usageError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v, want accepted", tc.args, err)
		case tc.want != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}
