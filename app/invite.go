package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
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
	lan := widget.NewCheck(L("invite.lan"), nil) // off: no local network or VPN addresses in the code
	msg := errorLabel()
	result := container.NewVBox()
	var create *widget.Button
	create = widget.NewButton(L("invite.create"), func() {
		req := api.InviteRequest{Zone: z.ID, Role: roles[max(0, index(roleNames, role.Selected))], TTL: inviteTTLs[max(0, ttl.SelectedIndex())], LAN: lan.Checked}
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
				setError(msg, u.errText(err))
				return
			}
			result.RemoveAll()
			u.inviteResult(result, res, req.Role)
		})
	})
	create.Importance = widget.HighImportance
	u.show(screen{name: "invite", title: L("invite.title", args{"Zone": z.Name}), build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("invite.intro")), widget.NewLabel(L("invite.role")), role,
			widget.NewLabel(L("invite.ttl")), ttl, lan, create, msg, result)
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
	// Every line of the code shows at phone width, none cut off: codes
	// naming several members' nodes run to hundreds of characters.
	code.SetMinRowsVisible(len(res.Code)/inviteRowChars + 2)
	box.Add(code)
	copied := wrapLabel(L("invite.copied"))
	copied.Importance = widget.SuccessImportance
	copied.Hide()
	box.Add(widget.NewButtonWithIcon(L("invite.copy"), theme.ContentCopyIcon(), func() {
		u.fa.Clipboard().SetContent(res.Code)
		copied.Show()
	}))
	box.Add(copied)
}

// inviteRowChars is the fewest characters of an invite code a line of its
// text box holds at a phone's width (320 px), which sizes the box.
const inviteRowChars = 28

// qrImage draws an invite code as a QR code about qrSide pixels wide, each
// module a whole number of pixels: modules scaled by a fraction come out
// of uneven widths, and a long code (an invite naming several members'
// nodes) then failed to read about one time in twenty.
func qrImage(code string) (image.Image, error) {
	q, err := qrcode.New(code, qrcode.Low)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	return q.Image(-max(qrMinModulePixels, qrSide/len(q.Bitmap()))), nil
}

// qrSide is the target width of an invite's QR code in pixels, and
// qrMinModulePixels the least width of one of its modules.
const (
	qrSide            = 512
	qrMinModulePixels = 3
)

// Limits on a picture of an invite, so an odd file cannot exhaust memory.
const (
	maxQRFile   = 20 << 20
	maxQRPixels = 40_000_000
	maxQRSide   = 20_000 // pixels; also keeps Width*Height from overflowing
)

// The first bytes of a PNG and of a JPEG file.
var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
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
	// Only PNG and JPEG: other decoders linked into the binary (TIFF,
	// BMP, …) can be made to reserve gigabytes by a few bytes of header.
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch {
	case bytes.HasPrefix(b, pngMagic):
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case bytes.HasPrefix(b, jpegMagic):
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	default:
		return "", errors.New("read image: not a PNG or JPEG picture")
	}
	cfg, err := decodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxQRSide || cfg.Height > maxQRSide || cfg.Width*cfg.Height > maxQRPixels {
		return "", fmt.Errorf("read image: %dx%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read image: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("prepare image: %w", err)
	}
	// A saved screenshot of the app's code is a clean, upright picture:
	// read it as such first; a photo needs the slower search.
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		res, err = zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		return "", fmt.Errorf("find qr code: %w", err)
	}
	return res.GetText(), nil
}

// showJoin redeems an invite pasted as text or read from a QR image file.
func (u *UI) showJoin() {
	code := newFormEntry(L("join.hint"), 4)
	code.Wrapping = fyne.TextWrapBreak
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
				u.log.Info("join zone", "err", err)
				setError(msg, L("join.err.invalid"))
			case errors.Is(err, api.ErrForbidden):
				u.log.Info("join zone", "err", err)
				setError(msg, L("join.err.refused"))
			case err != nil:
				u.log.Info("join zone", "err", err)
				setError(msg, L("join.err.unreachable"))
			default:
				u.watchZone(z.ID)
				u.showZones()
				u.showFeed(z)
			}
		})
	})
	join.Importance = widget.HighImportance
	code.OnSubmitted = func(string) { join.OnTapped() }
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
	u.show(screen{name: "join", title: L("join.title"), focus: code, build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("join.intro")), code, join, fromFile, msg)
	}})
}
