package wsframe

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Close status codes (§7.4.1), with the IANA registrations 1012-1014
// (https://www.iana.org/assignments/websocket).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // never on the wire: "no code was present" (§7.1.5)
	CloseAbnormal        = 1006 // never on the wire: the connection dropped without a close frame
	CloseInvalidData     = 1007 // e.g. a text message that is not UTF-8 (§8.1)
	ClosePolicyViolation = 1008
	CloseTooBig          = 1009
	CloseMandatoryExt    = 1010
	CloseInternalError   = 1011
	CloseServiceRestart  = 1012
	CloseTryAgainLater   = 1013
	CloseBadGateway      = 1014
	CloseTLSHandshake    = 1015 // never on the wire
)

// Errors of ParseClose.
var (
	ErrCloseLength = errors.New("wsframe: close payload of 1 byte")
	ErrCloseCode   = errors.New("wsframe: close code not allowed on the wire")
	ErrCloseReason = errors.New("wsframe: close reason is not UTF-8")
)

// ValidCloseCode reports whether code may appear in a close frame: one
// that §7.4.1 defines or IANA registered (1000-1003, 1007-1014), or one
// of the ranges for libraries and applications (3000-4999, §7.4.2).
// 1004 is reserved; 1005, 1006 and 1015 are for reporting only.
func ValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose decodes the payload of a close frame (§5.5.1): empty, or a
// 2-byte big-endian code followed by a UTF-8 reason. An empty payload
// gives CloseNoStatus and no error. A 1-byte payload, a code that
// ValidCloseCode refuses and a reason that is not UTF-8 give an error
// along with what could be decoded.
func ParseClose(p []byte) (code uint16, reason string, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", nil
	case 1:
		return 0, "", ErrCloseLength
	}
	code = binary.BigEndian.Uint16(p)
	reason = string(p[2:])
	if !ValidCloseCode(code) {
		return code, reason, ErrCloseCode
	}
	if !utf8.ValidString(reason) {
		return code, reason, ErrCloseReason
	}
	return code, reason, nil
}

// AppendClose appends the payload of a close frame with code and reason
// to dst. CloseNoStatus gives an empty payload, as §7.1.5 implies. The
// caller keeps the whole payload within MaxControlPayload: a reason of at
// most 123 bytes.
func AppendClose(dst []byte, code uint16, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, code)
	return append(dst, reason...)
}
