package server

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"time"
)

// Images: what the server checks before it decodes one, and the size of
// the thumbnails it makes.
const (
	maxImageSide   = 10000    // pixels, either side
	maxImagePixels = 16 << 20 // pixels in all (16 Mi: 64 MiB as RGBA, 128 MiB as a 16-bit PNG)
	thumbSide      = 320      // a thumbnail fits thumbSide × thumbSide

	// thumbConcurrency is how many images a node decodes at once. A
	// decode may hold up to 128 MiB (16 Mi pixels of a 16-bit PNG) and
	// take seconds of CPU, and a few KiB of PNG can ask for that: without
	// a bound, a burst of small uploads would take the node's memory.
	thumbConcurrency = 2
	// thumbWait is the longest a complete upload waits for its turn; past
	// it the image is kept without a thumbnail (a plain file).
	thumbWait = 5 * time.Second
)

// thumbTurn waits for a turn to decode an image, at most thumbWait or
// until ctx ends, and reports whether it got one; the caller gives a turn
// back with s.thumbDone.
func (s *Server) thumbTurn(ctx context.Context) bool {
	select {
	case s.thumbs <- struct{}{}:
		return true
	default:
	}
	s.metrics.thumbsWaiting.Inc()
	defer s.metrics.thumbsWaiting.Dec()
	t := time.NewTimer(thumbWait)
	defer t.Stop()
	select {
	case s.thumbs <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	s.metrics.thumbsSkipped.Inc()
	return false
}

func (s *Server) thumbDone() { <-s.thumbs }

// imageTypes are the media types shown inline and given a thumbnail.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true}

// imageConfig reads an image's header only (image.DecodeConfig) and reports
// its size, and whether it is small enough to decode: a decompression bomb
// (a few KiB that decode to gigabytes) is refused here, before any pixel.
func imageConfig(r io.Reader, typ string) (w, h int, ok bool) {
	var cfg image.Config
	var err error
	switch typ {
	case "image/png":
		cfg, err = png.DecodeConfig(r)
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(r)
	case "image/gif":
		cfg, err = gif.DecodeConfig(r)
	default:
		return 0, 0, false
	}
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide ||
		cfg.Width*cfg.Height > maxImagePixels {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}

// thumbnail decodes an image whose size imageConfig accepted and returns a
// thumbnail that fits thumbSide × thumbSide (never larger than the image):
// JPEG for a JPEG, PNG otherwise (a GIF's first frame).
func thumbnail(r io.Reader, typ string) ([]byte, error) {
	var src image.Image
	var err error
	switch typ {
	case "image/png":
		src, err = png.Decode(r)
	case "image/jpeg":
		src, err = jpeg.Decode(r)
	case "image/gif":
		src, err = gif.Decode(r)
	}
	if err != nil {
		return nil, err
	}
	dst := scaleDown(src, thumbSide)
	var buf bytes.Buffer
	if typ == "image/jpeg" {
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80})
	} else {
		err = png.Encode(&buf, dst)
	}
	return buf.Bytes(), err
}

// scaleDown returns src shrunk to fit side × side (or src's size if
// smaller), each pixel the mean of the box of source pixels it covers.
// The mean is taken of premultiplied colours, so that a transparent
// pixel's colour, which shows nowhere, does not bleed into its opaque
// neighbours (dark fringes round a logo). Pixels are read through
// image.RGBA64Image, which every decoder's image implements, without an
// allocation each.
func scaleDown(src image.Image, side int) *image.NRGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if sw > side || sh > side {
		if sw >= sh {
			dw, dh = side, max(1, sh*side/sw)
		} else {
			dw, dh = max(1, sw*side/sh), side
		}
	}
	px, ok := src.(image.RGBA64Image)
	if !ok {
		px = rgba64Of{src}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		y0, y1 := b.Min.Y+y*sh/dh, b.Min.Y+max((y+1)*sh/dh, y*sh/dh+1)
		for x := range dw {
			x0, x1 := b.Min.X+x*sw/dw, b.Min.X+max((x+1)*sw/dw, x*sw/dw+1)
			var r, g, bl, a uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					c := px.RGBA64At(sx, sy)
					r += uint64(c.R)
					g += uint64(c.G)
					bl += uint64(c.B)
					a += uint64(c.A)
				}
			}
			if a == 0 {
				continue // transparent: NewNRGBA's zero
			}
			// r/n over a/n, scaled to 8 bits: n cancels out.
			dst.SetNRGBA(x, y, color.NRGBA{
				R: uint8(r * 0xff / a), G: uint8(g * 0xff / a), B: uint8(bl * 0xff / a),
				A: uint8(a / uint64((y1-y0)*(x1-x0)) >> 8),
			})
		}
	}
	return dst
}

// rgba64Of reads an image that is not an image.RGBA64Image through At.
type rgba64Of struct{ image.Image }

func (m rgba64Of) RGBA64At(x, y int) color.RGBA64 {
	return color.RGBA64Model.Convert(m.At(x, y)).(color.RGBA64)
}
