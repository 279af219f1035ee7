package server

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/hubbub-chat/hubbub/protocol"
)

// DNS rebinding.
//
// The Origin check (origin.go) accepts a page of the server's own origin,
// and a browser's idea of "own" is the name in the address bar. A page at
// http://attacker.example:8080 whose name the attacker's DNS then points
// at 127.0.0.1 talks to a hubbubd on the user's own machine as its own
// origin: the Origin header and the Host header both say
// attacker.example:8080, and they match. The page can then read the
// server's rooms as a guest, open the inspector's pages, or (on the
// profiler's listener) read the command line with a store password in it.
//
// What the browser cannot forge is the Host header: it is the attacker's
// name. So a request that reaches the server on a loopback address must
// name the server by a name only the machine gives it: an IP address,
// localhost (or a name under .localhost), the machine's own host name, the
// --public-url's host (a reverse proxy on the same machine passes the
// public name), or a name on the --allowed-host list. A request that
// arrives on any other address is from the network, where the server
// answers to whatever names point at it, unless --allowed-host lists them:
// then every request must name one of them (or an IP address or a
// loopback name), which protects an intranet server too.
//
// The health and metrics endpoints answer whatever the Host: load
// balancers and scrapers probe by address or by names of their own, and
// those endpoints hold nothing a page could use.

// HostPolicy decides which Host names a server answers to. The zero value
// allows every name; NewHostPolicy makes a real one.
type HostPolicy struct {
	names  map[string]bool // lower case, without port or trailing dot
	listed bool            // --allowed-host was given: every request is checked
}

// NewHostPolicy returns the policy for the names an operator listed
// (--allowed-host: host names, without scheme or port) and the public URL
// (may be empty). The machine's host name is always allowed.
func NewHostPolicy(allowed []string, publicURL string) (*HostPolicy, error) {
	p := &HostPolicy{names: make(map[string]bool), listed: len(allowed) > 0}
	for _, h := range allowed {
		n := hostName(h)
		if n == "" || strings.ContainsAny(n, "/:@ ") {
			return nil, fmt.Errorf("allowed host %q: want a host name, like chat.example.com", h)
		}
		p.names[n] = true
	}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil {
			return nil, fmt.Errorf("public URL %q: %w", publicURL, err)
		}
		p.names[hostName(u.Hostname())] = true
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		p.names[hostName(h)] = true
	}
	return p, nil
}

// hostName is h lower-cased, without a trailing dot.
func hostName(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// Allowed reports whether the server answers r, by its Host header and
// the local address it arrived on.
func (p *HostPolicy) Allowed(r *http.Request) bool {
	if p == nil || p.names == nil {
		return true
	}
	if !p.listed && !arrivedOnLoopback(r) {
		return true
	}
	host := r.Host
	if host == "" {
		return true // HTTP/1.0 without Host: not a browser
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = hostName(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // an IPv6 zone
	}
	if net.ParseIP(host) != nil {
		return true // a rebinding attack needs a name
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true // RFC 6761: always the loopback, never the network's DNS
	}
	return p.names[host]
}

// arrivedOnLoopback reports whether r came in on a loopback address. It
// reports false when the server cannot tell (a handler called without a
// listener, as in tests).
func arrivedOnLoopback(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// Guard passes the requests this policy allows to next, and refuses the
// others; the health and metrics endpoints pass whatever the Host, as on
// the chat's listener.
func (p *HostPolicy) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostExempt(r.URL.Path) && !p.Allowed(r) {
			refuseHost(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseHost answers a request for a name the server does not answer to:
// HTTP 403 with the JSON error forbidden, whose reason names the flag
// that allows the name.
func refuseHost(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusForbidden, apiError{
		Code:   protocol.CodeForbidden,
		Reason: fmt.Sprintf("this server does not answer to the name %q; open it by its own name, or have its operator add --allowed-host", hostOnly(r.Host)),
	})
}

// hostExempt reports whether path answers whatever the Host: the health
// and metrics endpoints (see above).
func hostExempt(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// hostOnly is the name part of a Host header, cut to a length fit for a
// log line or a reply.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if len(host) > 100 {
		host = host[:100]
	}
	return host
}
