package rfcws

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// Conn is the server's side of one WebSocket connection, from Upgrade.
// One goroutine at a time may call ReadMessage and WriteMessage (Echo
// does both, in turn); Close may be called from any goroutine.
type Conn struct {
	nc   net.Conn
	br   *bufio.Reader // reads from nc; may hold bytes that came with the handshake
	opts Options       // immutable after Upgrade

	msg      []byte      // the message being read; reused. Owned by the reader.
	out      []byte      // the frame being written; reused. Owned by the writer.
	stopping atomic.Bool // set by Echo's stop watcher
}

// CloseError says how a connection ended in a close handshake: the code
// and reason of the close frame, and whether the peer sent it first.
type CloseError struct {
	Code   uint16
	Reason string
	Remote bool // the peer started the close; false: the server failed or closed the connection
}

func (e *CloseError) Error() string {
	who := "server"
	if e.Remote {
		who = "peer"
	}
	return fmt.Sprintf("rfcws: closed by %s: %d %s", who, e.Code, e.Reason)
}

// ReadMessage returns the next text or binary message, its fragments
// joined. It answers pings with pongs and ignores pongs on its way (§5.5.2,
// §5.5.3). The returned bytes are valid until the next call.
//
// When the peer sends a close frame, ReadMessage echoes its code (§5.5.1),
// closes the TCP connection (§7.1.1: the server closes it first) and
// returns a *CloseError with Remote set. When the peer breaks the protocol
// it fails the connection (§7.1.7): it sends a close frame with 1002
// (protocol error), 1007 (text that is not UTF-8) or 1009 (message too
// big), closes the TCP connection and returns a *CloseError. Any other
// error comes from the network, including a read timeout.
func (c *Conn) ReadMessage() (wsframe.Opcode, []byte, error) {
	var (
		op       wsframe.Opcode // of the message being read
		inMsg    bool           // a first fragment has arrived
		msgStart time.Time      // when it arrived
		text     wsframe.UTF8   // validates op == OpText as bytes arrive
	)
	if cap(c.msg) > 4096 {
		c.msg = nil // don't keep a large message's buffer for an idle connection
	}
	c.msg = c.msg[:0]
	for {
		// Every frame, and all of it, must arrive within ReadTimeout; and
		// a fragmented message must end within ReadTimeout of its first
		// frame, or a peer could hold a partial message (up to
		// MaxMessage) for ever with a ping now and then.
		deadline := time.Now().Add(c.opts.ReadTimeout)
		if inMsg {
			deadline = msgStart.Add(c.opts.ReadTimeout)
		}
		c.nc.SetReadDeadline(deadline)
		if c.stopping.Load() {
			return 0, nil, errStopping
		}
		h, err := wsframe.ReadHeader(c.br)
		if errors.Is(err, wsframe.ErrBadLength) {
			return 0, nil, c.fail(wsframe.CloseProtocolError, "bad 64-bit length")
		}
		if err != nil {
			return 0, nil, err
		}
		// §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated";
		// none is.
		if h.Rsv1 || h.Rsv2 || h.Rsv3 {
			return 0, nil, c.fail(wsframe.CloseProtocolError, "reserved bit set")
		}
		// §5.2 reserved opcodes, §5.5 control frames at most 125 bytes
		// and not fragmented.
		if err := h.Check(); err != nil {
			return 0, nil, c.fail(wsframe.CloseProtocolError, err.Error()[len("wsframe: "):])
		}
		// §5.1: "The server MUST close the connection upon receiving a
		// frame that is not masked."
		if !h.Masked {
			return 0, nil, c.fail(wsframe.CloseProtocolError, "client frame not masked")
		}

		if h.Opcode.IsControl() {
			var buf [wsframe.MaxControlPayload]byte
			p := buf[:h.Length]
			if err := c.readPayload(h, p, nil); err != nil {
				return 0, nil, err
			}
			switch h.Opcode {
			case wsframe.OpPing:
				// §5.5.2: answer with a pong carrying the same data,
				// even in the middle of a fragmented message (§5.4).
				if err := c.writeFrame(wsframe.OpPong, p); err != nil {
					return 0, nil, err
				}
			case wsframe.OpPong:
				// §5.5.3: an unsolicited pong is allowed and needs no answer.
			case wsframe.OpClose:
				return 0, nil, c.closeReceived(p)
			}
			continue
		}

		// §5.4: a message is one data frame with FIN, or a first frame
		// with the message's opcode and FIN clear, continuation frames,
		// and a last continuation with FIN. Nothing else may interleave
		// but control frames.
		switch {
		case h.Opcode == wsframe.OpContinuation && !inMsg:
			return 0, nil, c.fail(wsframe.CloseProtocolError, "continuation without a message")
		case h.Opcode != wsframe.OpContinuation && inMsg:
			return 0, nil, c.fail(wsframe.CloseProtocolError, "new message before the last ended")
		case h.Opcode != wsframe.OpContinuation:
			op, inMsg, msgStart = h.Opcode, true, time.Now()
		}
		// Refuse a message that would pass the limit before reading it.
		if uint64(len(c.msg))+h.Length > uint64(c.opts.MaxMessage) {
			return 0, nil, c.fail(wsframe.CloseTooBig, "message too big")
		}
		start := len(c.msg)
		c.msg = slices.Grow(c.msg, int(h.Length))[:start+int(h.Length)]
		var check *wsframe.UTF8
		if op == wsframe.OpText {
			check = &text
		}
		if err := c.readPayload(h, c.msg[start:], check); err != nil {
			return 0, nil, err
		}
		if h.Fin {
			// §8.1: the whole message must be UTF-8; a character cut at
			// the end of the message is invalid.
			if op == wsframe.OpText && !text.Complete() {
				return 0, nil, c.fail(wsframe.CloseInvalidData, "text is not UTF-8")
			}
			return op, c.msg, nil
		}
	}
}

// errStopping ends ReadMessage when Echo's stop channel closes.
var errStopping = errors.New("rfcws: stopping")

// readPayload reads the payload of h into p (len(p) == h.Length),
// unmasking it (§5.3). When text is not nil it validates each piece as it
// comes off the socket, and fails the connection with 1007 at the first
// invalid byte, without waiting for the rest of the frame (§8.1).
func (c *Conn) readPayload(h wsframe.Header, p []byte, text *wsframe.UTF8) error {
	for pos := 0; pos < len(p); {
		n, err := c.br.Read(p[pos:])
		piece := p[pos : pos+n]
		pos = wsframe.Mask(h.MaskKey, pos, piece)
		if text != nil && !text.Write(piece) {
			return c.fail(wsframe.CloseInvalidData, "text is not UTF-8")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// closeReceived answers the peer's close frame (§5.5.1, §7.1.2).
func (c *Conn) closeReceived(p []byte) error {
	code, reason, err := wsframe.ParseClose(p)
	switch {
	case errors.Is(err, wsframe.ErrCloseReason):
		return c.fail(wsframe.CloseInvalidData, "close reason is not UTF-8")
	case err != nil:
		// A 1-byte body or a code not allowed on the wire (§7.4).
		return c.fail(wsframe.CloseProtocolError, "bad close frame")
	}
	// §5.5.1: "the endpoint ... MUST send a Close frame in response ...
	// typically echoing the status code it received". With no code
	// received (1005), the answer has no code either.
	c.writeFrame(wsframe.OpClose, wsframe.AppendClose(nil, code, ""))
	// §7.1.1: "the underlying TCP connection, in most normal cases, SHOULD
	// be closed first by the server".
	c.closeAfterFrame()
	return &CloseError{Code: code, Reason: reason, Remote: true}
}

// fail fails the WebSocket connection (§7.1.7): a close frame with code,
// then the TCP connection closes through closeAfterFrame: the server
// half-closes first and discards what the peer still sends, its close
// frame included, for at most CloseGrace. It returns the *CloseError.
func (c *Conn) fail(code uint16, reason string) error {
	c.writeFrame(wsframe.OpClose, wsframe.AppendClose(nil, code, reason))
	c.closeAfterFrame()
	return &CloseError{Code: code, Reason: reason}
}

// drainExtra is how many bytes past MaxMessage closeAfterFrame reads at
// most.
const drainExtra = 1 << 20

// closeAfterFrame closes the TCP connection after the close frame just
// written, without losing it: it sends FIN first (the server closes
// first, §7.1.1), then reads and discards what the peer still sends, for
// up to Options.CloseGrace, until the peer closes its side. Closing the
// socket at once would, with bytes of the peer's still unread, make the
// kernel send a reset, and a reset can make the peer's kernel drop the
// close frame before the peer reads it: the Autobahn suite saw that as a
// closing handshake that never finished, in about one run of ten.
func (c *Conn) closeAfterFrame() {
	if hc, ok := c.nc.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(c.opts.CloseGrace))
		// The rest of a frame over MaxMessage may still be on its way,
		// and the peer's close frame after it: reading less would leave
		// bytes unread and bring on the reset this is here to avoid.
		io.Copy(io.Discard, io.LimitReader(c.br, int64(c.opts.MaxMessage)+drainExtra))
	}
	c.nc.Close()
}

// WriteMessage sends data as one unfragmented message of type op
// (wsframe.OpText or wsframe.OpBinary). The caller makes sure text is
// UTF-8.
func (c *Conn) WriteMessage(op wsframe.Opcode, data []byte) error {
	return c.writeFrame(op, data)
}

// writeFrame writes one final frame. §5.1: "A server MUST NOT mask any
// frames that it sends to the client."
func (c *Conn) writeFrame(op wsframe.Opcode, payload []byte) error {
	c.out = wsframe.AppendFrame(c.out[:0], wsframe.Header{Fin: true, Opcode: op}, payload)
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	_, err := c.nc.Write(c.out)
	if cap(c.out) > 4096 {
		c.out = nil // don't keep a large message's buffer for an idle connection
	}
	return err
}

// CloseHandshake starts the close handshake from the server (§7.1.2): it
// sends a close frame with code and reason, waits up to Options.CloseGrace
// for the peer's close frame, discarding any data before it, and closes
// the TCP connection. It must not run beside ReadMessage.
func (c *Conn) CloseHandshake(code uint16, reason string) error {
	err := c.writeFrame(wsframe.OpClose, wsframe.AppendClose(nil, code, reason))
	c.nc.SetReadDeadline(time.Now().Add(c.opts.CloseGrace))
	for err == nil {
		var h wsframe.Header
		if h, err = wsframe.ReadHeader(c.br); err == nil {
			_, err = c.br.Discard(int(min(h.Length, uint64(c.opts.MaxMessage))))
			if h.Opcode == wsframe.OpClose || h.Length > uint64(c.opts.MaxMessage) {
				break
			}
		}
	}
	c.nc.Close()
	return err
}

// Close closes the TCP connection without a close handshake.
func (c *Conn) Close() error { return c.nc.Close() }

// Echo sends every message back to the peer as it came, until the peer
// closes, breaks the protocol, or goes silent past ReadTimeout. When stop
// closes it ends the connection with 1001 (going away) through a close
// handshake; a nil stop never closes. It returns how the connection ended: a *CloseError for a
// close handshake, or the network error. The connection is closed when
// Echo returns.
//
// Each message is written before the next one is read, so everything the
// peer sent before a protocol error has been echoed when the connection
// fails.
func (c *Conn) Echo(stop <-chan struct{}) error {
	// armed closes once the stop watcher has set its deadline: the close
	// handshake sets a deadline of its own, which the watcher's must not
	// overwrite, or the handshake would stop waiting for the peer's close
	// frame at once and close the socket with that frame unread (a reset).
	armed := make(chan struct{})
	if stop != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-stop:
				// The flag first: ReadMessage sets its deadline, then
				// checks the flag, so one of the two sees the other.
				c.stopping.Store(true)
				c.nc.SetReadDeadline(time.Now())
				close(armed)
			case <-done:
			}
		}()
	}
	for {
		op, data, err := c.ReadMessage()
		if err != nil {
			var ce *CloseError
			if !errors.As(err, &ce) && c.stopping.Load() {
				<-armed // stopping is set just before: not a long wait
				c.CloseHandshake(wsframe.CloseGoingAway, "server shutting down")
				return &CloseError{Code: wsframe.CloseGoingAway, Reason: "server shutting down"}
			}
			c.nc.Close()
			return err
		}
		if err := c.WriteMessage(op, data); err != nil {
			c.nc.Close()
			return err
		}
	}
}
