package wsframe

import "errors"

// Message is what an Assembler produces: a text or binary message joined
// from its fragments, or a control frame passed through on its own.
type Message struct {
	Opcode Opcode // OpText, OpBinary, or the control opcode
	// Data is the joined payload, or its first bytes when Truncated.
	Data      []byte
	Length    uint64 // payload bytes of all the message's frames
	Truncated bool   // Data is shorter than Length
	Frames    int    // frames that carried the message (1 if not fragmented)
	// BadUTF8 is set on a text message whose bytes are not valid UTF-8 as
	// far as they were kept: a broken prefix, or, when nothing was cut, a
	// message that ends inside a character (§8.1).
	BadUTF8 bool
}

// Errors of Assembler.Push: fragments out of order (§5.4).
var (
	ErrUnexpectedContinuation = errors.New("wsframe: continuation frame without a message to continue")
	ErrExpectedContinuation   = errors.New("wsframe: new data frame while a fragmented message is unfinished")
)

// An Assembler joins the frames of one direction of a connection into
// messages (§5.4): a data frame without FIN starts a fragmented message,
// continuation frames extend it, the one with FIN ends it. Control frames
// may come between fragments; they are returned at once as messages of
// their own and do not disturb the message in progress.
//
// The zero value is ready to use and keeps every payload byte it is given
// (a Parser already bounds each frame); set MaxData to bound each
// message. An Assembler is not safe for concurrent use.
type Assembler struct {
	// MaxData bounds the bytes of Data kept per message; longer messages
	// are Truncated but their Length counts every byte. 0: no bound.
	MaxData int

	inMsg bool
	cur   Message
	utf   UTF8
}

// Push takes the next frame of the stream. It returns a Message and true
// when f completes one (or is a control frame), and false while a
// fragmented message is still open. A fragment out of order gives an error;
// the frame is then dropped and the message in progress, if any, kept.
func (a *Assembler) Push(f Frame) (Message, bool, error) {
	if f.Opcode.IsControl() {
		// §5.4: "Control frames MAY be injected in the middle of a
		// fragmented message"; they are never fragmented themselves (§5.5).
		return Message{
			Opcode: f.Opcode, Data: f.Payload, Length: f.Length,
			Truncated: f.Truncated, Frames: 1,
		}, true, nil
	}
	switch {
	case f.Opcode == OpContinuation && !a.inMsg:
		return Message{}, false, ErrUnexpectedContinuation
	case f.Opcode != OpContinuation && a.inMsg:
		return Message{}, false, ErrExpectedContinuation
	case f.Opcode != OpContinuation:
		// §5.4: the first fragment carries the opcode of the message.
		a.inMsg = true
		a.cur = Message{Opcode: f.Opcode}
		a.utf.Reset()
	}
	a.add(f)
	if !f.Fin {
		return Message{}, false, nil
	}
	// §5.4: "a single frame with the FIN bit set ... followed by a
	// termination frame with the FIN bit set" ends the message.
	m := a.cur
	a.cur, a.inMsg = Message{}, false
	if m.Opcode == OpText && !m.BadUTF8 && !m.Truncated && !a.utf.Complete() {
		m.BadUTF8 = true
	}
	return m, true, nil
}

func (a *Assembler) add(f Frame) {
	m := &a.cur
	m.Frames++
	m.Length += f.Length
	p := f.Payload
	if f.Truncated || m.Truncated {
		m.Truncated = true
	}
	if a.MaxData > 0 && len(m.Data)+len(p) > a.MaxData {
		p = p[:max(a.MaxData-len(m.Data), 0)]
		m.Truncated = true
	}
	if m.Opcode == OpText && !m.BadUTF8 && uint64(len(m.Data)) == m.Length-f.Length {
		// Validate only while the kept bytes are contiguous.
		if !a.utf.Write(p) {
			m.BadUTF8 = true
		}
	}
	m.Data = append(m.Data, p...)
}

// InMessage reports whether a fragmented message is open.
func (a *Assembler) InMessage() bool { return a.inMsg }
