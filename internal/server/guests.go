package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Guests have an identity of their own, like an account's session but
// without a password: a random secret in the hubbub_guest cookie, which
// the server sets on the 101 response of a guest's first handshake. The
// guest's identity is a key derived from that secret, "~g" and 20 hex
// digits of its SHA-256, so it needs no storage, is the same on every
// node, and cannot be claimed without the secret. It never starts like an
// account name (those start with a letter), so it cannot collide with one.
//
// A client without cookies (the Go client without a jar) gets a fresh
// identity on every connection. Moderation of a guest therefore binds to
// the identity and, for the sanction's duration, to the address the guest
// came from (see guestIPKey): clearing the cookie does not undo a ban.

// guestCookie holds a guest's secret.
const guestCookie = "hubbub_guest"

// guestSecretBytes is the size of a guest secret before base64.
const guestSecretBytes = 24

// guestIdentity returns the guest key of r's guest cookie, minting a new
// secret when r has none (or a malformed one); then setCookie is the
// Set-Cookie header value to send with the upgrade, else it is "".
func (s *Server) guestIdentity(r *http.Request) (key, setCookie string) {
	if c, err := r.Cookie(guestCookie); err == nil {
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(b) == guestSecretBytes {
			return guestKey(c.Value), ""
		}
	}
	var b [guestSecretBytes]byte
	rand.Read(b[:])
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	ck := &http.Cookie{
		Name:     guestCookie,
		Value:    secret,
		Path:     "/",
		MaxAge:   int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   s.secureCookies(r),
		SameSite: http.SameSiteLaxMode,
	}
	return guestKey(secret), ck.String()
}

func guestKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "~g" + hex.EncodeToString(sum[:10])
}

// guestTag is the user_tag of the entry at seq of room about the guest
// identity key (protocol.Message.UserTag): every node that has the
// guest's connections can tell that the entry is about it, and no
// client can tell the identity, nor that two entries name the same
// guest (the room and seq make each tag different).
func guestTag(room string, seq int64, key string) string {
	h := sha256.New()
	h.Write([]byte("hubbub user_tag\x00"))
	h.Write([]byte(room))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, seq, 10))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// guestIPKey is the sanction key that binds a guest's ban or mute to the
// address the guest came from. It applies to guests only.
func guestIPKey(ip string) string { return "~ip:" + ip }

// guestRegistry holds the display names of the guests online on this
// node, by their names.Key, so that two people cannot show under one name,
// and remembers recently seen guests so that a moderator can name them
// after they left. Its methods are safe for concurrent use.
//
// It is per node; with Config.Names, leases in the shared store make the
// names unique across nodes too (names.go).
type guestRegistry struct {
	mu     sync.Mutex
	online map[string]*guestHold  // by names.Key; guarded by mu
	seen   map[string]guestRecord // by names.Key, departed (not in online); guarded by mu
}

type guestHold struct {
	guestRecord
	n int // connections holding the name
}

// guestRecord is what a moderator's target resolves to.
type guestRecord struct {
	key     string // the guest identity
	display string // the name as the guest typed it
	ip      string
	at      time.Time // when last claimed or released
}

const (
	guestMemory   = time.Hour // how long a departed guest stays nameable
	guestSeenKeys = 10000     // most departed guests remembered
)

// claim gives nameKey to guest key, or reports ok false if another guest
// identity holds it; first reports that this is the identity's first
// hold of it here. One identity may hold its name on several
// connections; each successful claim needs a release.
func (g *guestRegistry) claim(nameKey string, rec guestRecord) (first, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.online == nil {
		g.online = make(map[string]*guestHold)
		g.seen = make(map[string]guestRecord)
	}
	h := g.online[nameKey]
	if h != nil && h.key != rec.key {
		return false, false
	}
	if h == nil {
		h = &guestHold{guestRecord: rec}
		g.online[nameKey] = h
	}
	h.n++
	h.ip, h.at = rec.ip, rec.at
	// Online, the hold is the record: a copy in seen would only cost
	// memory (about 200 bytes a guest, with the map's slack).
	delete(g.seen, nameKey)
	return h.n == 1, true
}

// held returns the names held online here, with their holders.
func (g *guestRegistry) held() []chat.NameClaim {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]chat.NameClaim, 0, len(g.online))
	for k, h := range g.online {
		out = append(out, chat.NameClaim{Key: k, Holder: h.key})
	}
	return out
}

// release undoes one claim of nameKey by guest key, and reports whether
// it was the last: nobody here holds the name any more.
func (g *guestRegistry) release(nameKey, key string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.online[nameKey]
	if h == nil || h.key != key {
		return false
	}
	if h.n--; h.n > 0 {
		return false
	}
	delete(g.online, nameKey)
	rec := h.guestRecord
	rec.at = now
	g.seen[nameKey] = rec
	if len(g.seen) > guestSeenKeys {
		g.forgetLocked(now)
	}
	return true
}

// forgetLocked drops departed guests: those gone past guestMemory, then,
// if still too many, any until a quarter of the room is free.
func (g *guestRegistry) forgetLocked(now time.Time) {
	for k, r := range g.seen {
		if now.Sub(r.at) > guestMemory {
			delete(g.seen, k)
		}
	}
	for k := range g.seen {
		if len(g.seen) <= guestSeenKeys*3/4 {
			return
		}
		delete(g.seen, k)
	}
}

// lookup returns the guest who holds nameKey, or held it within
// guestMemory.
func (g *guestRegistry) lookup(nameKey string, now time.Time) (guestRecord, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.online[nameKey]; h != nil {
		return h.guestRecord, true
	}
	r, ok := g.seen[nameKey]
	if !ok || now.Sub(r.at) > guestMemory {
		return guestRecord{}, false
	}
	return r, true
}

// nameOf returns the display name of guest identity key, if it is online
// on this node or was seen here within guestMemory; else "".
func (g *guestRegistry) nameOf(key string, now time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range g.online {
		if h.key == key {
			return h.display
		}
	}
	for _, r := range g.seen {
		if r.key == key && now.Sub(r.at) <= guestMemory {
			return r.display
		}
	}
	return ""
}

// onlineMatching returns the identity of a guest online on this node that
// match accepts: the holder of nameKey if it does, else any other one
// (a guest may hold another name on another connection).
func (g *guestRegistry) onlineMatching(nameKey string, match func(key string) bool) (string, bool) {
	g.mu.Lock()
	if h := g.online[nameKey]; h != nil && match(h.key) {
		g.mu.Unlock()
		return h.key, true
	}
	keys := make(map[string]bool, len(g.online))
	for _, h := range g.online {
		keys[h.key] = true
	}
	g.mu.Unlock()
	for k := range keys { // outside the lock: each is a hash to compute
		if match(k) {
			return k, true
		}
	}
	return "", false
}

// allowCreate applies the room-creation limit (Config.RoomCreates per
// RoomCreateWindow) to the caller's account or guest identity and, for a
// guest, to the address as well: reconnecting, or a new cookie, does not
// start a guest's count again.
func (ss *session) allowCreate() error {
	now := time.Now()
	keys := []string{ss.userKey()}
	if ss.guestID != "" {
		keys = append(keys, guestIPKey(ss.ip))
	}
	for _, k := range keys {
		if ok, retry := ss.srv.limits.roomCreates.Allow(k, now); !ok {
			return protocol.Errorf(protocol.CodeRateLimited, "too many new rooms; try again in %s", retry.Round(time.Second))
		}
	}
	return nil
}
