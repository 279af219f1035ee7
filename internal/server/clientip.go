package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request comes from, as every per-address
// limit and address-bound guest sanction counts it: its TCP peer, unless
// the peer is one of Config.TrustedProxies; then the right-most address of
// X-Forwarded-For that is not a trusted proxy (the left part of the
// header is the client's to write, so it is never believed). A header
// that does not parse leaves the peer's address. An IPv6 address counts
// as its /64 (addrKey).
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if !s.trusted(peer) {
		return addrKey(peer)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addrKey(peer)
		}
		if !s.trusted(a) {
			return addrKey(a)
		}
	}
	return addrKey(peer)
}

// addrKey is a client address as limits count it: an IPv4 address as it
// is, an IPv6 address as its /64 prefix ("2001:db8:1:2::/64"). One IPv6
// host commonly holds a whole /64 and may use any address in it, so a
// limit or a guest ban on single IPv6 addresses would bind nobody.
func addrKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
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
