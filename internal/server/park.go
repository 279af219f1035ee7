package server

import (
	"bufio"
	"encoding/binary"
	"syscall"
	"time"
)

// Parking: an idle connection without a goroutine.
//
// A connection's read loop needs a goroutine only while there is something
// to read. When it has handled every message it was sent and gorilla's
// reader holds no byte, the read loop parks: it asks the server's poller
// (park_linux.go, epoll) to tell it when the socket is readable again, and
// its goroutine is free. When bytes arrive, the poller hands the read loop
// to one of the server's reader goroutines (readers.go), which goes on
// reading where the last one stopped. An idle connection therefore holds
// no goroutine and no stack at all: only its heap.
//
// Heartbeats would wake every parked connection once per PingInterval
// just to read a pong, and gorilla's NextReader, which handles control
// frames itself, returns only with a data message: after the pong, it
// would wait for the next message, holding a goroutine. So between
// messages the read loop looks into the reader first, and answers a ping
// or takes a pong that is there whole by itself (controlFrame); only data
// frames, and anything unusual, go to gorilla.
//
// The states of the read side (conn.rstate):
//
//	readActive  a goroutine runs the read loop (the only one)
//	readParked  no goroutine; wakeReader starts one
//
// A parked connection is woken by the poller when its socket is readable,
// by the pinger when it has been silent past PingInterval+PongTimeout (the
// read deadline a blocked read would have had), and by end, which closes
// the socket: the woken read loop then finds the error and ends the
// connection as a blocked read would have.
//
// Connections that cannot park read as before: a TLS socket (its records
// are buffered beyond gorilla's reader), a conn made in a test without
// the tap, and every connection on a system without epoll.
const (
	readActive int32 = iota
	readParked
)

// parker is what park needs of the server's poller.
type parker interface {
	// arm asks to resume c when raw is readable, once. It reports
	// false if it cannot (then c reads on, blocking).
	arm(c *conn) bool
	// forget lets go of c, whose socket is closed.
	forget(c *conn)
	// close stops the poller; arm fails after it.
	close()
}

// parkable sets up c for parking if its socket allows it: gorilla reads
// through the tapped connection's reader, over a socket with a file
// descriptor.
func (c *conn) parkable() {
	tc := tapOf(c)
	if tc == nil || tc.br == nil || c.srv.poller == nil {
		return
	}
	sc, ok := tc.Conn.Conn.(syscall.Conn)
	if !ok {
		return // TLS
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.br, c.raw, c.tap = tc.br, raw, tc.Tap()
	limitUnsent(raw, c.srv.cfg.UnsentLimit)
}

// heard notes that a frame arrived: the read deadline of a blocked read,
// and the silence limit of a parked connection, start again from now.
func (c *conn) heard() {
	now := time.Now()
	c.lastHeard.Store(now.UnixNano())
	deadline := now.Add(c.idleLimit())
	if c.msgStart != 0 {
		// Inside a message, pings and pongs prove the peer alive, not
		// that its message is coming: a peer that starts one and keeps
		// it open with control frames would hold the partial message
		// and a blocked read goroutine for ever.
		deadline = time.Unix(0, c.msgStart).Add(c.idleLimit())
	}
	c.ws.SetReadDeadline(deadline)
}

// idleLimit is how long a peer may be silent: PingInterval+PongTimeout.
func (c *conn) idleLimit() time.Duration {
	return c.srv.cfg.PingInterval + c.srv.cfg.PongTimeout
}

// tryPark parks c if its reader is empty. It reports whether it did; then
// the caller's goroutine must not touch the read side again.
func (c *conn) tryPark() bool {
	if c.raw == nil || c.br.Buffered() > 0 {
		return false
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return false // read on until the peer's close frame or the grace ends
	}
	c.srv.metrics.parked.Inc()
	c.rstate.Store(readParked)
	if !c.srv.poller.arm(c) {
		c.rstate.Store(readActive)
		c.srv.metrics.parked.Dec()
		return false
	}
	return true
}

// wakeReader resumes c's read loop, on one of the server's reader
// goroutines (readers.go), if c is parked. The poller calls it when the
// socket is readable; the pinger and end call it to have the read loop
// find the timeout or the closed socket.
func (c *conn) wakeReader() {
	if c.rstate.CompareAndSwap(readParked, readActive) {
		c.srv.metrics.parked.Dec()
		c.srv.readers.run(c.readResumed)
	}
}

// readResumed runs the read loop of a connection that was parked.
func (c *conn) readResumed() { c.readOn(true) }

// silentParked reports whether c is parked and has been silent past the
// idle limit. The pinger then wakes it: its read times out at once, as a
// blocked read's would have.
func (c *conn) silentParked(now time.Time) bool {
	return c.rstate.Load() == readParked && now.Sub(time.Unix(0, c.lastHeard.Load())) > c.idleLimit()
}

// Control frames a client sends whole between messages, taken from the
// reader by controlFrame: FIN set, no RSV bit, masked, at most 125 bytes.
const (
	wirePing = 0x80 | 0x9
	wirePong = 0x80 | 0xA
)

// controlFrame takes a ping or a pong that starts c's buffered bytes,
// at a message boundary, and handles it as gorilla's handlers would (a
// pong queued for the write loop; the deadline extended). It reports
// false, consuming nothing, when the next frame is anything else, or
// odd in any way: gorilla then reads it and applies every rule of RFC
// 6455. It blocks only to read the rest of a ping or pong already begun.
func controlFrame(br *bufio.Reader) (op byte, payload []byte, ok bool) {
	if br.Buffered() < 2 {
		return 0, nil, false
	}
	h, _ := br.Peek(2)
	if h[0] != wirePing && h[0] != wirePong || h[1]&0x80 == 0 || h[1]&0x7f > 125 {
		return 0, nil, false
	}
	n := int(h[1] & 0x7f)
	f, err := br.Peek(2 + 4 + n)
	if err != nil {
		return 0, nil, false // let gorilla's read meet the error
	}
	op = f[0]
	key := f[2:6]
	payload = make([]byte, n)
	for i := range payload {
		payload[i] = f[6+i] ^ key[i%4]
	}
	br.Discard(len(f))
	return op, payload, true
}

// frameBuffered reports whether br holds a whole frame, header and
// payload, so that reading it will not wait for the network: a client
// that pipelines its commands (hello and its joins sent without waiting
// for the replies) has its next command here already.
func frameBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n < 2 {
		return false
	}
	h, _ := br.Peek(2)
	need := 2
	switch l := int(h[1] & 0x7f); l {
	case 126:
		if n < 4 {
			return false
		}
		b, _ := br.Peek(4)
		need += 2 + int(binary.BigEndian.Uint16(b[2:]))
	case 127:
		if n < 10 {
			return false
		}
		b, _ := br.Peek(10)
		l := binary.BigEndian.Uint64(b[2:])
		if l > uint64(n) {
			return false
		}
		need += 8 + int(l)
	default:
		need += l
	}
	if h[1]&0x80 != 0 {
		need += 4 // the masking key
	}
	return need <= n
}

// pipeline starts or ends a burst of pipelined commands. While one lasts
// (from a command read with the next one buffered behind it to the end of
// what is buffered), replies are queued without being written or waking
// the write loop; at its end they go out together, replies first, in one
// write when the socket is free: a client that sends hello and three joins
// at once gets its four replies in one frame, and the server makes one
// system call instead of four. Acks of committed entries (which come from
// the committer, not from the burst) and events are queued and kick the
// write loop as always, and so does a close; the write loop then sends
// everything queued, the burst's replies too, replies first. Only the read
// loop calls it; the read loop ends a burst before it parks or waits for
// the network.
func (c *conn) pipeline(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pipelined = on
	if on || len(c.queue) == 0 {
		return
	}
	if c.heldOnly {
		// The held replies are owed from now on (admitLocked).
		c.queuedSince, c.heldOnly = time.Now(), false
	}
	if !c.writeQueueThroughLocked() {
		c.kickLocked()
		return
	}
	// A connection that pipelined its setup may now stay idle for
	// hours: it keeps no queue (an idle connection holds no buffers).
	c.queue = nil
}
