package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// checkOrigin decides whether a browser page may use the WebSocket and the
// account API. It allows:
//
//   - a request without an Origin header (not a browser);
//   - the origin of Config.PublicURL, scheme, host and port as users
//     reach the server, which is what counts behind a reverse proxy;
//   - an origin in Config.AllowedOrigins;
//   - an origin with the request's own scheme and Host (http://host for a
//     plain request, https://host over TLS), so that a server reached
//     directly works without configuration.
//
// Origins compare by scheme, host and port, with default ports made
// explicit: http://h and http://h:80 are the same origin, https://h and
// http://h are not, and ws://, file:// or javascript:// never pass.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || s.originAllowed(origin, r)
}

// originAllowed applies checkOrigin's rules to a browser origin.
func (s *Server) originAllowed(origin string, r *http.Request) bool {
	n, err := normalizeOrigin(origin)
	if err != nil {
		return false
	}
	if s.origins[n] {
		return true
	}
	own, err := normalizeOrigin(requestScheme(r) + "://" + r.Host)
	return err == nil && n == own
}

// requestScheme is the scheme of the request as this process received it.
// X-Forwarded-Proto is not trusted: set Config.PublicURL instead.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// normalizeOrigin returns o as scheme://host:port in lower case, with the
// default port of the scheme made explicit. Only http and https origins
// without a path, query, fragment or user are valid.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("want http(s)://host[:port]")
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// secureCookies reports whether cookies must carry Secure: the request
// came over TLS, or Config.PublicURL is https (TLS ends at a proxy).
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.public, "https://")
}

// hsts reports whether responses carry Strict-Transport-Security: the
// same rule as secureCookies. A browser that has seen it uses https for
// the host for a year.
func (s *Server) hsts(r *http.Request) bool { return s.secureCookies(r) }

// refuseOrigin answers 403 to a browser page of a foreign origin, counts
// it in hubbub_upgrades_refused_total and logs it, at most once per
// refusedLogEvery, with what the server expected: behind a proxy that
// rewrites Host, the fix is Config.PublicURL (hubbubd --public-url).
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request) {
	s.metrics.upgradeRefused.Inc()
	s.refusedWarn.Add("", "origin", r.Header.Get("Origin"), "host", r.Host, "expected", s.expectedOrigins(r))
	w.Header().Set("X-Hubbub-Refused", "origin")
	http.Error(w, "origin not allowed", http.StatusForbidden)
}

// expectedOrigins lists the origins r would have been allowed from.
func (s *Server) expectedOrigins(r *http.Request) []string {
	var out []string
	if own, err := normalizeOrigin(requestScheme(r) + "://" + r.Host); err == nil {
		out = append(out, own)
	}
	for o := range s.origins {
		if o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.Sort(out[min(1, len(out)):])
	return out
}

// originRefusedReason is the sentence a browser page of a refused origin
// shows its user (the web client asks through GET /api/session with
// X-Hubbub-Origin, since a browser cannot read a refused handshake).
func (s *Server) originRefusedReason(origin string, r *http.Request) string {
	return fmt.Sprintf("This server does not accept pages from %s (it expects %s). "+
		"If it runs behind a reverse proxy, its operator must start it with --public-url %s.",
		origin, strings.Join(s.expectedOrigins(r), " or "), origin)
}
