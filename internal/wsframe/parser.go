package wsframe

import "fmt"

// Frame is one complete frame as a Parser saw it.
type Frame struct {
	Header
	// Offset is the position in the stream of the frame's first header
	// byte, counting from the first byte given to the Parser.
	Offset int64
	// Payload is the unmasked payload, or its first MaxPayload bytes when
	// Truncated. It belongs to the receiver of the Frame.
	Payload   []byte
	Truncated bool // Header.Length is larger than len(Payload)
	// Err is the first rule of Header.Check the frame breaks, or nil. The
	// Parser goes on after such a frame: its length is still known.
	Err error
}

// A Parser follows one direction of a WebSocket connection: it is fed the
// bytes of the stream in chunks split anywhere, and calls its callback with
// every frame as soon as its last byte has arrived. It keeps at most the
// header and MaxPayload bytes of the frame in progress, so its memory is
// bounded whatever the peer sends.
//
// It applies Header.Check to each frame and reports the result in
// Frame.Err; it does not check the RSV bits, the mask bit or the order of
// fragments, which depend on the connection (see Assembler). A 64-bit
// length with its top bit set ends the stream: Write returns ErrBadLength
// (wrapped with its offset), and every later Write returns it again.
//
// A Parser is not safe for concurrent use. Its zero value is not usable;
// create one with NewParser.
type Parser struct {
	max     int
	onFrame func(Frame)

	hdr  [MaxHeaderSize]byte // the header read so far
	nhdr int                 // bytes of hdr filled

	inPayload bool   // the header is complete; payload bytes follow
	cur       Frame  // the frame in progress, when inPayload
	remaining uint64 // payload bytes of cur still to come
	off       int64  // bytes consumed so far
	err       error  // sticky fatal error
}

// NewParser returns a Parser that keeps at most maxPayload bytes of each
// payload (0 keeps none, and still reports lengths) and calls onFrame,
// which must not be nil, for every complete frame, on the goroutine that
// calls Write.
func NewParser(maxPayload int, onFrame func(Frame)) *Parser {
	return &Parser{max: max(maxPayload, 0), onFrame: onFrame}
}

// Write feeds the next bytes of the stream. It consumes all of b unless
// the stream breaks (see Parser). It never keeps b.
func (p *Parser) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n := len(b)
	for len(b) > 0 {
		if !p.inPayload {
			b = p.readHeader(b)
			if p.err != nil {
				return n - len(b), p.err
			}
			continue
		}
		k := uint64(len(b))
		if k > p.remaining {
			k = p.remaining
		}
		// Keep what fits under the bound; count the rest.
		keep := min(int(min(k, uint64(p.max))), p.max-len(p.cur.Payload))
		if keep > 0 {
			start := len(p.cur.Payload)
			p.cur.Payload = append(p.cur.Payload, b[:keep]...)
			if p.cur.Masked {
				// §5.3: the payload is unmasked with the key, byte i
				// with key[i mod 4]; start is this piece's position.
				Mask(p.cur.MaskKey, start, p.cur.Payload[start:])
			}
		}
		b = b[k:]
		p.off += int64(k)
		p.remaining -= k
		if p.remaining == 0 {
			p.emit()
		}
	}
	return n, nil
}

// readHeader moves header bytes from b into p.hdr and, once the header is
// complete, starts its payload. It returns what is left of b.
func (p *Parser) readHeader(b []byte) []byte {
	need := 2
	if p.nhdr >= 2 {
		need = headerSize(p.hdr[0], p.hdr[1])
	}
	c := copy(p.hdr[p.nhdr:need], b)
	p.nhdr += c
	p.off += int64(c)
	b = b[c:]
	if p.nhdr < need {
		return b
	}
	if need == 2 && headerSize(p.hdr[0], p.hdr[1]) > 2 {
		return b // the rest of the header is in the next round
	}
	h, err := ParseHeader(p.hdr[:p.nhdr])
	start := p.off - int64(p.nhdr)
	if err != nil {
		p.err = fmt.Errorf("wsframe: frame at offset %d: %w", start, err)
		return b
	}
	p.nhdr = 0
	p.inPayload = true
	p.remaining = h.Length
	p.cur = Frame{Header: h, Offset: start, Err: h.Check()}
	if keep := min(h.Length, uint64(p.max)); keep > 0 {
		p.cur.Payload = make([]byte, 0, keep)
	}
	if h.Length == 0 {
		p.emit()
	}
	return b
}

func (p *Parser) emit() {
	f := p.cur
	f.Truncated = uint64(len(f.Payload)) < f.Length
	p.cur = Frame{}
	p.inPayload = false
	p.onFrame(f)
}

// InFrame reports whether the bytes written so far end inside a frame.
func (p *Parser) InFrame() bool { return p.inPayload || p.nhdr > 0 }

// Err returns the error that ended the stream, or nil.
func (p *Parser) Err() error { return p.err }
