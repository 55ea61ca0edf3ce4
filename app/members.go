package app

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// showMembers lists a zone's members; organizers can promote and remove.
func (u *UI) showMembers(z api.Zone) {
	msg := errorLabel()
	note := wrapLabel("")
	note.Hide()
	u.show(screen{name: "members", title: L("members.title", args{"Zone": z.Name}), build: func() fyne.CanvasObject {
		box := container.NewVBox(msg, note)
		ms, err := u.b.Members(z.ID)
		if err != nil {
			setError(msg, u.errText(err))
			return box
		}
		cur, _ := u.zone(z.ID)
		me := u.b.Status().MemberID
		for _, m := range ms {
			box.Add(u.memberRow(cur, m, me, msg, note))
			box.Add(widget.NewSeparator())
		}
		return box
	}})
}

// shortID is the start of a member ID, enough to tell members apart.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func (u *UI) memberRow(z api.Zone, m api.Member, me string, msg, note *widget.Label) fyne.CanvasObject {
	name := m.Name
	if name == "" {
		name = L("members.noname")
	}
	if m.ID == me {
		name = L("members.you", args{"Name": name})
	}
	row := container.NewVBox(boldWrap(name), widget.NewLabel(roleWord(m.Role)+" · "+shortID(m.ID)))
	if m.Removed {
		l := widget.NewLabel(L("members.removed"))
		l.Importance = widget.LowImportance
		row.Add(l)
		return row
	}
	if z.Role != "organizer" || m.ID == me {
		return row
	}
	done := func(text string) func(error) {
		return func(err error) {
			if err != nil {
				setError(msg, u.errText(err))
				return
			}
			setError(msg, "")
			note.SetText(text)
			note.Show()
			u.render()
		}
	}
	promote := func(role string) func() {
		return func() {
			u.async(func(ctx context.Context) error {
				_, err := u.b.Promote(ctx, z.ID, m.ID, role)
				return err
			}, done(L("members.promoted", args{"Name": name, "Role": roleWord(role)})))
		}
	}
	buttons := container.NewVBox()
	if m.Role == "member" {
		buttons.Add(widget.NewButton(L("members.make.verifier"), promote("verifier")))
	}
	if m.Role != "organizer" {
		buttons.Add(widget.NewButton(L("members.make.organizer"), promote("organizer")))
	}
	remove := widget.NewButton(L("members.remove"), func() {
		u.confirm(L("members.remove.title"), L("members.remove.confirm", args{"Name": name}), L("members.remove"), func() {
			var res api.RemoveResult
			u.async(func(ctx context.Context) error {
				var err error
				res, err = u.b.Remove(ctx, z.ID, m.ID)
				return err
			}, func(err error) {
				done(N("members.removed.note", len(res.Unreached), args{"Name": name, "Reached": res.Reached, "N": len(res.Unreached)}))(err)
			})
		})
	})
	remove.Importance = widget.DangerImportance
	buttons.Add(remove)
	row.Add(buttons)
	return row
}
