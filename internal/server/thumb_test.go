package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

func TestThumbnailSizes(t *testing.T) {
	tests := []struct{ w, h, wantW, wantH int }{
		{800, 400, 320, 160},
		{300, 1200, 80, 320},
		{320, 320, 320, 320},
		{10, 5, 10, 5},
		{4000, 1, 320, 1},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, tc.w, tc.h))); err != nil {
			t.Fatal(err)
		}
		w, h, ok := imageConfig(bytes.NewReader(buf.Bytes()), "image/png")
		if !ok || w != tc.w || h != tc.h {
			t.Fatalf("imageConfig(%d×%d) = %d, %d, %v", tc.w, tc.h, w, h, ok)
		}
		b, err := thumbnail(bytes.NewReader(buf.Bytes()), "image/png")
		if err != nil {
			t.Fatalf("thumbnail(%d×%d): %v", tc.w, tc.h, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != tc.wantW || cfg.Height != tc.wantH {
			t.Errorf("thumbnail of %d×%d = %d×%d (%v), want %d×%d", tc.w, tc.h, cfg.Width, cfg.Height, err, tc.wantW, tc.wantH)
		}
	}
}

// TestImageBombRefused: a PNG header that claims 20000×20000 pixels is
// refused before any pixel is decoded.
func TestImageBombRefused(t *testing.T) {
	for _, size := range [][2]uint32{{20000, 20000}, {5000, 5000}, {10001, 1}} {
		ihdr := make([]byte, 13)
		binary.BigEndian.PutUint32(ihdr[0:], size[0])
		binary.BigEndian.PutUint32(ihdr[4:], size[1])
		ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
		var b bytes.Buffer
		b.WriteString("\x89PNG\r\n\x1a\n")
		binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
		chunk := append([]byte("IHDR"), ihdr...)
		b.Write(chunk)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
		if _, _, ok := imageConfig(bytes.NewReader(b.Bytes()), "image/png"); ok {
			t.Errorf("imageConfig accepted a %d×%d image", size[0], size[1])
		}
	}
}

// TestThumbnailTurns: a node decodes at most thumbConcurrency images at
// once; a complete image upload past that waits for a turn (counted in
// hubbub_thumbnails_waiting) and gets its thumbnail once one is free.
func TestThumbnailTurns(t *testing.T) {
	s := filesServer(t, nil)
	c := s.guest(t, guestHeader(), "ada")
	file := noisePNG(t, 8, 8) // one chunk
	id := c.ok(protocol.Command{Op: protocol.OpUpload, Name: "a.png", Size: int64(len(file)), SHA256: sum(file)}).Upload.ID
	for range thumbConcurrency {
		s.srv.thumbs <- struct{}{} // every turn taken (as by other uploads)
	}
	c.sendChunk(id, 0, file)
	deadline := time.Now().Add(5 * time.Second)
	for gaugeValue(s.srv.metrics.thumbsWaiting) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("hubbub_thumbnails_waiting = %v, want 1: the upload did not wait for a turn", gaugeValue(s.srv.metrics.thumbsWaiting))
		}
		time.Sleep(time.Millisecond) // polling for the state, not timing
	}
	<-s.srv.thumbs // one turn free
	ev := c.uploadEvent()
	if ev.Type != protocol.TypeUpload || ev.Upload.File == nil || !ev.Upload.File.Thumb {
		t.Fatalf("upload event = %+v, want the file with a thumbnail", ev)
	}
	if got := gaugeValue(s.srv.metrics.thumbsWaiting); got != 0 {
		t.Errorf("hubbub_thumbnails_waiting after the turn = %v, want 0", got)
	}
}

// BenchmarkScaleDown: a thumbnail of the largest image the server decodes
// in each form its decoders return (NRGBA from PNG, YCbCr from JPEG).
func BenchmarkScaleDown(b *testing.B) {
	const side = 4096 // 16 Mi pixels: maxImagePixels
	r := image.Rect(0, 0, side, side)
	for _, src := range []image.Image{image.NewNRGBA(r), image.NewYCbCr(r, image.YCbCrSubsampleRatio420)} {
		b.Run(fmt.Sprintf("%T", src), func(b *testing.B) {
			for b.Loop() {
				scaleDown(src, thumbSide)
			}
		})
	}
}

// TestScaleDownColours: a shrunk pixel is the mean of its box, taken of
// premultiplied colours, so a transparent pixel's colour does not bleed
// into an opaque neighbour; images that are not image.RGBA64Image read
// the same.
func TestScaleDownColours(t *testing.T) {
	row := func(cs ...color.NRGBA) *image.NRGBA {
		m := image.NewNRGBA(image.Rect(0, 0, len(cs), 1))
		for x, c := range cs {
			m.SetNRGBA(x, 0, c)
		}
		return m
	}
	red, green := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 255, 0, 255}
	tests := []struct {
		name string
		src  image.Image
		want color.NRGBA
	}{
		{"opaque beside transparent", row(red, color.NRGBA{0, 255, 0, 0}), color.NRGBA{255, 0, 0, 127}},
		{"two opaque", row(red, green), color.NRGBA{127, 127, 0, 255}},
		{"all transparent", row(color.NRGBA{9, 9, 9, 0}, color.NRGBA{}), color.NRGBA{}},
		{"half and fully opaque", row(color.NRGBA{0, 0, 255, 128}, color.NRGBA{0, 0, 255, 255}), color.NRGBA{0, 0, 255, 192}},
		{"not an RGBA64Image", struct{ image.Image }{row(red, color.NRGBA{0, 255, 0, 0})}, color.NRGBA{255, 0, 0, 127}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scaleDown(tt.src, 1)
			if got.Bounds() != image.Rect(0, 0, 1, 1) {
				t.Fatalf("bounds %v, want 1×1", got.Bounds())
			}
			if c := got.NRGBAAt(0, 0); c != tt.want {
				t.Errorf("pixel = %v, want %v", c, tt.want)
			}
		})
	}
}

// TestThumbTurnGivesUp: with every turn taken, an image waits thumbWait
// for one and is then counted as kept without a thumbnail; a turn freed
// within the wait is taken.
func TestThumbTurnGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Server{thumbs: make(chan struct{}, 1), metrics: newMetrics()}
		s.thumbs <- struct{}{} // every turn taken
		start := time.Now()
		if s.thumbTurn(t.Context()) {
			t.Fatal("thumbTurn = true with every turn taken")
		}
		if waited := time.Since(start); waited != thumbWait {
			t.Errorf("gave up after %v, want %v", waited, thumbWait)
		}
		if got := counterValue(s.metrics.thumbsSkipped); got != 1 {
			t.Errorf("hubbub_thumbnails_skipped_total = %v, want 1", got)
		}

		go func() {
			time.Sleep(thumbWait / 2)
			s.thumbDone()
		}()
		if !s.thumbTurn(t.Context()) {
			t.Error("thumbTurn = false though a turn came free within the wait")
		}
		if got := counterValue(s.metrics.thumbsSkipped); got != 1 {
			t.Errorf("hubbub_thumbnails_skipped_total = %v after a turn was taken, want still 1", got)
		}
	})
}
