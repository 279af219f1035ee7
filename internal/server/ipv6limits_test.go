package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestIPv6LimitsBindThePrefix: an IPv6 client holds a whole /64 (an ISP
// hands one to every home line), so an address limit or an address-bound
// guest ban that counts single IPv6 addresses binds nobody: the client
// steps to the next address. They bind the /64; another /64 is another
// client. The clients come through a trusted proxy, so that the test can
// choose their addresses.
func TestIPv6LimitsBindThePrefix(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

	t.Run("registrations per address", func(t *testing.T) {
		for i := 1; i <= 10; i++ {
			resp := s.post(t, "/api/register", from(fmt.Sprintf("2001:db8:1:2::%x", i)),
				credentials{Username: fmt.Sprintf("user%d", i), Password: "correct horse", Bearer: true}, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("registration %d: status %d, want 201", i, resp.StatusCode)
			}
		}
		for i, tt := range []struct {
			addr string
			want int
		}{
			{"2001:db8:1:2::ff", http.StatusTooManyRequests},     // the same /64
			{"2001:db8:1:2:ffff::1", http.StatusTooManyRequests}, // still the same /64
			{"2001:db8:1:3::1", http.StatusCreated},              // another /64
		} {
			var e apiError
			resp := s.post(t, "/api/register", from(tt.addr), credentials{Username: fmt.Sprintf("late%d", i), Password: "correct horse", Bearer: true}, &e)
			if resp.StatusCode != tt.want {
				t.Errorf("registration from %s: status %d %s, want %d", tt.addr, resp.StatusCode, e.Code, tt.want)
			}
		}
	})

	t.Run("guest ban", func(t *testing.T) {
		owner := s.account(t, s.register(t, "olga"))
		owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
		troll := s.dialWith(t, from("2001:db8:5:6::1"), guestJar(t))
		troll.ok(protocol.Command{Op: protocol.OpHello, Name: "troll"})
		troll.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
		owner.ok(protocol.Command{Op: protocol.OpBan, Room: "pub", User: "troll", Seconds: 3600})
		for _, tt := range []struct {
			addr string
			want protocol.Code
		}{
			{"2001:db8:5:6::2", protocol.CodeBanned},      // a new cookie, the next address
			{"2001:db8:5:6:abcd::9", protocol.CodeBanned}, // anywhere in the /64
			{"2001:db8:5:7::1", ""},                       // someone else
		} {
			g := s.dialWith(t, from(tt.addr), guestJar(t))
			g.ok(protocol.Command{Op: protocol.OpHello, Name: "guest " + tt.addr})
			if got := g.do(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); got.Code != tt.want {
				t.Errorf("a new guest from %s joins: %s %s, want %q", tt.addr, got.Type, got.Code, tt.want)
			}
		}
	})
}
