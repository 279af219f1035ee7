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
		if strings.HasPrefix(c.Room, dmPrefix) {
			return Errorf(CodeInvalidValue, "direct-message rooms are opened with dm, not created")
		}
		if err := CheckTopic(c.Topic); err != nil {
			return err
		}
	case OpSend:
		// A file's caption may be empty.
		if c.File == "" || c.Body != "" {
			if err := CheckBody(c.Body); err != nil {
				return err
			}
		}
		if c.File != "" {
			if err := CheckFileID(c.File); err != nil {
				return err
			}
		}
		if err := CheckCMID(c.CMID); err != nil {
			return err
		}
		if c.ReplyTo < 0 {
			return Errorf(CodeInvalidValue, "reply_to must be a seq, at least 1")
		}
	case OpEdit:
		if c.Seq < 1 {
			return Errorf(CodeInvalidValue, "seq must be at least 1")
		}
		if err := CheckBody(c.Body); err != nil {
			return err
		}
	case OpDelete:
		if c.Seq < 1 {
			return Errorf(CodeInvalidValue, "seq must be at least 1")
		}
	case OpReact:
		if c.Seq < 1 {
			return Errorf(CodeInvalidValue, "seq must be at least 1")
		}
		if err := CheckEmoji(c.Emoji); err != nil {
			return err
		}
	case OpRead:
		if c.Seq < 0 {
			return Errorf(CodeInvalidValue, "seq must be at least 0")
		}
	case OpSearch:
		if err := CheckQuery(c.Query); err != nil {
			return err
		}
		if c.Before != nil && c.Room == "" {
			return Errorf(CodeInvalidValue, "before pages the results of one room: give room too")
		}
		if c.Before != nil && *c.Before < 1 {
			return Errorf(CodeInvalidValue, "before must be at least 1")
		}
		if c.Limit < 0 || c.Limit > MaxSearchLimit {
			return Errorf(CodeInvalidValue, "limit must be between 1 and %d", MaxSearchLimit)
		}
	case OpUpload:
		if err := c.validateUpload(); err != nil {
			return err
		}
	case OpRooms:
		if c.Query != "" {
			if err := CheckQuery(c.Query); err != nil {
				return err
			}
		}
	case OpTopic:
		if err := CheckTopic(c.Topic); err != nil {
			return err
		}
	case OpDM, OpInvite, OpPromote, OpDemote, OpBlock, OpUnblock:
		if err := CheckUsername(c.User); err != nil {
			return err
		}
	case OpKick, OpBan, OpUnban, OpMute, OpUnmute:
		// Guests can be moderated too, by their display name.
		if CheckUsername(c.User) != nil {
			if err := CheckDisplayName(c.User); err != nil {
				return err
			}
		}
		if err := CheckReason(c.Reason); err != nil {
			return err
		}
		if c.Seconds < 0 || c.Seconds > MaxSanctionSeconds {
			return Errorf(CodeInvalidValue, "seconds must be between 0 (until lifted) and %d", MaxSanctionSeconds)
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
// The name of a direct-message room, as [DMRoom] makes it, is also valid
// (it may be longer than MaxRoomNameBytes); [Command.Validate] refuses it
// in a create.
func CheckRoomName(name string) error {
	if strings.HasPrefix(name, dmPrefix) {
		if _, _, ok := DMPeers(name); ok {
			return nil
		}
		return Errorf(CodeInvalidValue, "not a direct-message room name")
	}
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

const dmPrefix = "dm:"

// DMRoom returns the name of the direct-message room of two users:
// "dm:" and the two account names in byte order, separated by ':'.
func DMRoom(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return dmPrefix + a + ":" + b
}

// DMPeers returns the two users of a direct-message room name, in byte
// order, and false if name is not one: exactly the names [DMRoom] makes
// are, so a name with the users out of order or twice the same user is not.
func DMPeers(name string) (a, b string, ok bool) {
	rest, found := strings.CutPrefix(name, dmPrefix)
	if !found {
		return "", "", false
	}
	a, b, found = strings.Cut(rest, ":")
	if !found || CheckUsername(a) != nil || CheckUsername(b) != nil || a >= b {
		return "", "", false
	}
	return a, b, true
}

// CheckUsername reports whether name is a valid account name: 3 to 32
// characters of a-z, 0-9, '-' and '_', starting with a letter. Account
// names are case-insensitive: servers and clients lower-case what users
// type (with strings.ToLower) before checking.
func CheckUsername(name string) error {
	if len(name) < MinUsernameBytes {
		return Errorf(CodeInvalidValue, "user names have at least %d characters", MinUsernameBytes)
	}
	if len(name) > MaxUsernameBytes {
		return Errorf(CodeTooLong, "user name is longer than %d characters", MaxUsernameBytes)
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		ok := b >= 'a' && b <= 'z' || i > 0 && (b >= '0' && b <= '9' || b == '-' || b == '_')
		if !ok {
			return Errorf(CodeInvalidValue, "user names use a-z, 0-9, - and _, and start with a letter")
		}
	}
	return nil
}

// CheckPassword reports whether a password has an acceptable length: 8 to
// 128 bytes. Any characters are allowed.
func CheckPassword(pw string) error {
	if len(pw) < MinPasswordBytes {
		return Errorf(CodeInvalidValue, "passwords have at least %d characters", MinPasswordBytes)
	}
	if len(pw) > MaxPasswordBytes {
		return Errorf(CodeTooLong, "password is longer than %d bytes", MaxPasswordBytes)
	}
	return nil
}

// CheckReason reports whether a moderation reason is valid: up to 256
// characters, no control or format characters. The empty reason is valid.
func CheckReason(reason string) error {
	if utf8.RuneCountInString(reason) > MaxReasonRunes {
		return Errorf(CodeTooLong, "reason is longer than %d characters", MaxReasonRunes)
	}
	for _, r := range reason {
		if unsafeRune(r) {
			return Errorf(CodeInvalidValue, "reason contains a control character")
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

// CheckEmoji reports whether e is a valid reaction: 1 to 32 bytes making up
// one emoji as people type them, which this check approximates: at least
// one symbol (Unicode So, which covers emoji and regional indicators),
// and otherwise only symbols, combining marks, the zero-width joiner,
// variation selectors, the keycap mark and the keycap bases 0-9, # and *.
// Text, spaces and control characters are refused.
func CheckEmoji(e string) error {
	if e == "" {
		return Errorf(CodeInvalidValue, "emoji is empty")
	}
	if len(e) > MaxEmojiBytes {
		return Errorf(CodeTooLong, "emoji is longer than %d bytes", MaxEmojiBytes)
	}
	symbol := false
	for _, r := range e {
		switch {
		case unicode.Is(unicode.So, r), r == 0x20E3: // a symbol, or a keycap (1️⃣)
			symbol = true
		case unicode.Is(unicode.Sk, r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r),
			r == 0x200D, r == 0xFE0E, r == 0xFE0F,
			r >= '0' && r <= '9', r == '#', r == '*':
		default:
			return Errorf(CodeInvalidValue, "a reaction is one emoji")
		}
	}
	if !symbol {
		return Errorf(CodeInvalidValue, "a reaction is one emoji")
	}
	return nil
}

// CheckQuery reports whether q is a valid search query: 1 to 256
// characters, not only white space, no control or format characters.
func CheckQuery(q string) error {
	if utf8.RuneCountInString(q) > MaxQueryRunes {
		return Errorf(CodeTooLong, "query is longer than %d characters", MaxQueryRunes)
	}
	if strings.TrimSpace(q) == "" {
		return Errorf(CodeInvalidValue, "query is empty")
	}
	for _, r := range q {
		if unsafeRune(r) {
			return Errorf(CodeInvalidValue, "query contains a control character")
		}
	}
	return nil
}

// unsafeRune reports whether r is a control or format character: C0, DEL,
// C1, and Unicode's Cf class (bidirectional overrides, zero-width joiners).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}
