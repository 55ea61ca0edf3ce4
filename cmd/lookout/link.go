package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/protocol"
)

// Linked zones: link offers and accepts, the list of links, ending one,
// and sharing an alert over them.

func runZoneLink(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	name := fs.String("name", "", "the `NAME` this zone goes by in the other zone (default: its name)")
	var ttl ttlFlag
	fs.Var(&ttl, "ttl", "how long the code stays valid: `DURATION` like 24h (default 24h, at most 7d)")
	pos, err := e.parse("zone link", fs, args, "ZONE")
	if err != nil {
		return err
	}
	if err := e.checkTTL("zone link", ttl, "7d", ttlFlag(protocol.MaxLinkOfferTTL)); err != nil {
		return err
	}
	o, err := e.client().LinkOffer(ctx, api.LinkOfferRequest{Zone: pos[0], Name: *name, TTL: time.Duration(ttl)})
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.link", "Zone", clean(pos[0])))
	}
	// Only the code, so it can be piped; the user guide says what to do with it.
	_, err = fmt.Fprintln(e.stdout, o.Code)
	return err
}

func runZoneAcceptLink(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	name := fs.String("name", "", "the `NAME` this zone goes by in the other zone (default: its name)")
	asJSON := fs.Bool("json", false, "print the link as one JSON object")
	pos, err := e.parse("zone accept-link", fs, args, "ZONE", "CODE")
	if err != nil {
		return err
	}
	l, err := e.client().AcceptLink(ctx, api.AcceptLinkRequest{Zone: pos[0], Code: pos[1], Name: *name})
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.acceptlink", "Zone", clean(pos[0])))
	}
	if *asJSON {
		return printJSON(e.stdout, linkOut(l))
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T("cli.acceptlink.done", "Zone", clean(pos[0]), "Peer", clean(l.Peer), "ID", clean(l.ID)))
	return err
}

// linkJSON is a link as zone links --json prints it.
type linkJSON struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Peer  string     `json:"peer"`
	Since *time.Time `json:"since"`
	State string     `json:"state"`
	// Expires is set for an offer that was not accepted yet.
	Expires      *time.Time `json:"expires,omitempty"`
	Endpoint     string     `json:"endpoint,omitempty"`
	PeerEndorser string     `json:"peer_endorser,omitempty"`
}

func linkOut(l api.Link) linkJSON {
	return linkJSON{ID: l.ID, Name: l.Name, Peer: l.Peer, Since: l.Since, State: l.State, Expires: l.Expires, Endpoint: l.Endpoint, PeerEndorser: l.PeerEndorser}
}

func runZoneLinks(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object per link: id, name, peer, since, state")
	pos, err := e.parse("zone links", fs, args, "ZONE")
	if err != nil {
		return err
	}
	ls, err := e.client().Links(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		for _, l := range ls {
			if err := printJSON(e.stdout, linkOut(l)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ls) == 0 {
		_, err := fmt.Fprintln(e.stdout, e.tr.T("cli.links.none", "Zone", clean(pos[0]), "Cmd", e.cmdline("zone link "+shellQuote(pos[0]))))
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, e.tr.T("cli.links.header"))
	for _, l := range ls {
		since := "-"
		switch {
		case l.Since != nil:
			since = l.Since.Local().Format("2006-01-02 15:04 MST")
		case l.Expires != nil:
			since = e.tr.T("cli.links.until", "Time", l.Expires.Local().Format("2006-01-02 15:04 MST"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", displayName(l.Peer), clean(l.State), since, clean(l.ID), clean(l.Name))
	}
	return tw.Flush()
}

func runZoneUnlink(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	pos, err := e.parse("zone unlink", fs, args, "ZONE", "LINK")
	if err != nil {
		return err
	}
	l, err := e.client().Unlink(ctx, pos[0], pos[1])
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.unlink", "Zone", clean(pos[0])))
	}
	peer := l.Peer
	if peer == "" {
		peer = e.tr.T("cli.unlink.offer", "ID", l.ID)
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T("cli.unlink.done", "Zone", clean(pos[0]), "Peer", clean(peer)))
	return err
}

func runShare(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	hops := fs.Int("hops", 1, "how many links the alert may cross: `N` from 1 (linked zones only) to 8")
	city := fs.Bool("city-wide", false, "follow links as far as allowed (8 links)")
	pos, err := e.parse("share", fs, args, "ALERT")
	if err != nil {
		return err
	}
	n := *hops
	if *city {
		n = 8
	}
	if n < 1 || n > 8 {
		return &usageError{cmd: "share", msg: e.tr.T("cli.share.hops")}
	}
	a, err := e.client().Share(ctx, api.ShareRequest{Alert: pos[0], Hops: n})
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.share"))
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.N("cli.share.done", n, "Kind", e.tr.T("cli.kind."+a.Kind), "ID", clean(a.ID), "Zone", clean(a.ZoneName)))
	return err
}
