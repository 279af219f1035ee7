package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks the values of a command against the rules of its op. It
// returns an *Error with [CodeTooLong] or [CodeInvalidValue]. [Decode] calls
// it; clients may call it before sending.
func (c *Command) Validate() error {
	if len(c.ID) > MaxIDBytes {
		return Errorf(CodeTooLong, "id is longer than %d bytes", MaxIDBytes)
	}
	if c.Room != "" || needsRoom(c.Op) {
		if err := CheckRoomName(c.Room); err != nil {
			return err
		}
	}
	switch c.Op {
	case OpHello:
		if c.Name != "" {
			if err := CheckDisplayName(c.Name); err != nil {
				return err
			}
		}
	case OpCreate:
		if err := CheckTopic(c.Topic); err != nil {
			return err
		}
	case OpSend:
		if err := CheckBody(c.Body); err != nil {
			return err
		}
		if err := CheckCMID(c.CMID); err != nil {
			return err
		}
	case OpHistory:
		if c.Before != nil && c.After != nil {
			return Errorf(CodeInvalidValue, "give before or after, not both")
		}
		if c.Before != nil && *c.Before < 1 {
			return Errorf(CodeInvalidValue, "before must be at least 1")
		}
		if c.After != nil && *c.After < 0 {
			return Errorf(CodeInvalidValue, "after must be at least 0")
		}
		if c.Limit < 0 || c.Limit > MaxHistoryLimit {
			return Errorf(CodeInvalidValue, "limit must be between 1 and %d", MaxHistoryLimit)
		}
	}
	return nil
}

func needsRoom(op string) bool {
	spec, ok := ops[op]
	if !ok {
		return false
	}
	for _, f := range spec.required {
		if f == "room" {
			return true
		}
	}
	return false
}

// CheckRoomName reports whether name is a valid room name: 1 to 32
// characters of a-z, 0-9, '-' and '_', starting with a letter or digit.
// Room names are lower case; clients should lower-case what users type.
func CheckRoomName(name string) error {
	if name == "" {
		return Errorf(CodeInvalidValue, "room name is empty")
	}
	if len(name) > MaxRoomNameBytes {
		return Errorf(CodeTooLong, "room name is longer than %d characters", MaxRoomNameBytes)
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		alnum := b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
		if !alnum && (i == 0 || b != '-' && b != '_') {
			return Errorf(CodeInvalidValue, "room names use a-z, 0-9, - and _, and start with a letter or digit")
		}
	}
	return nil
}

// CheckDisplayName reports whether name is a valid guest display name: 1 to
// 32 characters, no control or format characters (which covers escape
// sequences and bidirectional overrides), no leading or trailing space.
func CheckDisplayName(name string) error {
	if name == "" {
		return Errorf(CodeInvalidValue, "name is empty")
	}
	if utf8.RuneCountInString(name) > MaxNameRunes {
		return Errorf(CodeTooLong, "name is longer than %d characters", MaxNameRunes)
	}
	if strings.TrimSpace(name) != name {
		return Errorf(CodeInvalidValue, "name starts or ends with a space")
	}
	for _, r := range name {
		if unsafeRune(r) || unicode.IsSpace(r) && r != ' ' {
			return Errorf(CodeInvalidValue, "name contains a control character")
		}
	}
	return nil
}

// CheckTopic reports whether topic is a valid room topic: up to 256
// characters, no control or format characters. The empty topic is valid.
func CheckTopic(topic string) error {
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return Errorf(CodeTooLong, "topic is longer than %d characters", MaxTopicRunes)
	}
	for _, r := range topic {
		if unsafeRune(r) {
			return Errorf(CodeInvalidValue, "topic contains a control character")
		}
	}
	return nil
}

// CheckBody reports whether body is a valid message body: 1 to 4096 bytes
// of UTF-8, not only white space. Bodies may contain any other character,
// newlines and control characters included: clients must render them
// safely (as text in a browser, made visible in a terminal).
func CheckBody(body string) error {
	if len(body) > MaxBodyBytes {
		return Errorf(CodeTooLong, "message is longer than %d bytes", MaxBodyBytes)
	}
	if strings.TrimSpace(body) == "" {
		return Errorf(CodeInvalidValue, "message is empty")
	}
	if !utf8.ValidString(body) {
		return Errorf(CodeInvalidValue, "message is not valid UTF-8")
	}
	return nil
}

// CheckCMID reports whether id is a valid client message id: empty (no
// idempotency), or 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'.
func CheckCMID(id string) error {
	if len(id) > MaxIDBytes {
		return Errorf(CodeTooLong, "cmid is longer than %d bytes", MaxIDBytes)
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return Errorf(CodeInvalidValue, "cmid uses A-Z, a-z, 0-9, - and _")
		}
	}
	return nil
}

// unsafeRune reports whether r is a control or format character: C0, DEL,
// C1, and Unicode's Cf class (bidirectional overrides, zero-width joiners).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}
