package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // QR codes photographed or saved as JPEG
	_ "image/png"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"

	"lookout/node/api"
	"lookout/protocol"
)

// inviteTTLs are the invite lifetimes offered.
var inviteTTLs = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// showInvite lets an organizer make an invite by role and shows it as a
// QR code and as text.
func (u *UI) showInvite(z api.Zone) {
	roles := []string{"member", "verifier", "organizer"}
	roleNames := []string{L("role.member"), L("role.verifier"), L("role.organizer")}
	role := widget.NewRadioGroup(roleNames, nil)
	role.SetSelected(roleNames[0])
	ttlNames := []string{L("invite.ttl.hour"), L("invite.ttl.day"), L("invite.ttl.week")}
	ttl := widget.NewSelect(ttlNames, nil)
	ttl.SetSelected(ttlNames[1])
	msg := errorLabel()
	result := container.NewVBox()
	var create *widget.Button
	create = widget.NewButton(L("invite.create"), func() {
		req := api.InviteRequest{Zone: z.ID, Role: roles[max(0, index(roleNames, role.Selected))], TTL: inviteTTLs[max(0, ttl.SelectedIndex())]}
		setError(msg, "")
		create.Disable()
		var res api.InviteResponse
		u.async(func(ctx context.Context) error {
			var err error
			res, err = u.b.Invite(ctx, req)
			return err
		}, func(err error) {
			create.Enable()
			if err != nil {
				setError(msg, errText(err))
				return
			}
			result.RemoveAll()
			u.inviteResult(result, res, req.Role)
		})
	})
	create.Importance = widget.HighImportance
	u.show(screen{title: L("invite.title", args{"Zone": z.Name}), build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("invite.intro")), widget.NewLabel(L("invite.role")), role,
			widget.NewLabel(L("invite.ttl")), ttl, create, msg, result)
	}})
}

func index(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// inviteResult fills box with an invite's QR code, text and expiry.
func (u *UI) inviteResult(box *fyne.Container, res api.InviteResponse, role string) {
	box.Add(wrapLabel(L("invite.done", args{"Role": roleWord(role), "Expires": u.clock(res.Expires)})))
	if img, err := qrImage(res.Code); err != nil {
		u.log.Warn("make invite qr code", "err", err)
		box.Add(wrapLabel(L("invite.noqr")))
	} else {
		qr := canvas.NewImageFromImage(img)
		qr.FillMode = canvas.ImageFillContain
		qr.ScaleMode = canvas.ImageScalePixels
		qr.SetMinSize(fyne.NewSize(240, 240))
		box.Add(qr)
	}
	code := widget.NewMultiLineEntry()
	code.SetText(res.Code)
	code.Wrapping = fyne.TextWrapBreak
	code.SetMinRowsVisible(4)
	box.Add(code)
	box.Add(widget.NewButtonWithIcon(L("invite.copy"), theme.ContentCopyIcon(), func() {
		u.fa.Clipboard().SetContent(res.Code)
	}))
}

// qrImage draws an invite code as a QR code.
func qrImage(code string) (image.Image, error) {
	q, err := qrcode.New(code, qrcode.Low)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	return q.Image(512), nil
}

// Limits on a picture of an invite, so an odd file cannot exhaust memory.
const (
	maxQRFile   = 20 << 20
	maxQRPixels = 40_000_000
)

// decodeQR reads the text of the QR code in an image.
func decodeQR(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxQRFile+1))
	if err != nil {
		return "", fmt.Errorf("read image: %w", err)
	}
	if len(b) > maxQRFile {
		return "", fmt.Errorf("read image: larger than %d bytes", maxQRFile)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxQRPixels {
		return "", fmt.Errorf("read image: %dx%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read image: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("prepare image: %w", err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", fmt.Errorf("find qr code: %w", err)
	}
	return res.GetText(), nil
}

// showJoin redeems an invite pasted as text or read from a QR image file.
func (u *UI) showJoin() {
	code := widget.NewMultiLineEntry()
	code.SetPlaceHolder(L("join.hint"))
	code.Wrapping = fyne.TextWrapBreak
	code.SetMinRowsVisible(4)
	msg := errorLabel()
	var join *widget.Button
	join = widget.NewButton(L("join.button"), func() {
		c := strings.TrimSpace(code.Text)
		switch {
		case c == "":
			setError(msg, L("join.err.empty"))
			return
		case len(c) > protocol.MaxInviteCodeLen:
			setError(msg, L("join.err.invalid"))
			return
		}
		setError(msg, "")
		join.Disable()
		var z api.Zone
		u.async(func(ctx context.Context) error {
			var err error
			z, err = u.b.Join(ctx, c)
			return err
		}, func(err error) {
			join.Enable()
			switch {
			case errors.Is(err, api.ErrInvalid):
				setError(msg, L("join.err.invalid")+" ("+err.Error()+")")
			case errors.Is(err, api.ErrForbidden):
				setError(msg, L("join.err.refused")+" ("+err.Error()+")")
			case err != nil:
				setError(msg, L("join.err.unreachable")+" ("+err.Error()+")")
			default:
				u.watchZone(z.ID)
				u.showZones()
				u.showFeed(z)
			}
		})
	})
	join.Importance = widget.HighImportance
	fromFile := widget.NewButtonWithIcon(L("join.qrfile"), theme.FileImageIcon(), func() {
		d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
			if err != nil {
				setError(msg, L("join.err.qr"))
				return
			}
			if rc == nil {
				return
			}
			defer rc.Close()
			text, err := decodeQR(rc)
			if err != nil {
				u.log.Info("read invite qr code", "err", err)
				setError(msg, L("join.err.qr"))
				return
			}
			setError(msg, "")
			code.SetText(text)
		}, u.w)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg"}))
		d.Show()
	})
	u.show(screen{title: L("join.title"), build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("join.intro")), code, join, fromFile, msg)
	}})
}
