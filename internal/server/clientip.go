package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request comes from: its TCP peer, unless the
// peer is one of Config.TrustedProxies; then the right-most address of
// X-Forwarded-For that is not a trusted proxy (the left part of the
// header is the client's to write, so it is never believed). A header
// that does not parse leaves the peer's address.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host
		}
		if !s.trusted(a) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseProxy reads a trusted proxy: an address or a CIDR prefix.
func parseProxy(p string) (netip.Prefix, error) {
	if strings.Contains(p, "/") {
		pre, err := netip.ParsePrefix(p)
		return pre.Masked(), err
	}
	a, err := netip.ParseAddr(p)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
