package server

import (
	"net/http"
	"testing"
)

func TestClientIP(t *testing.T) {
	s := &Server{}
	for _, p := range []string{"127.0.0.1", "10.0.0.0/8"} {
		n, err := parseProxy(p)
		if err != nil {
			t.Fatal(err)
		}
		s.proxies = append(s.proxies, n)
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct, no header", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"direct, forged header", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"via proxy", "127.0.0.1:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"via proxy, client forged the left part", "127.0.0.1:4000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"via two proxies", "127.0.0.1:4000", []string{"198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"via proxy, two headers", "127.0.0.1:4000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"via proxy, no header", "127.0.0.1:4000", nil, "127.0.0.1"},
		{"via proxy, garbage", "127.0.0.1:4000", []string{"not-an-ip"}, "127.0.0.1"},
		{"via proxy, IPv6 client", "127.0.0.1:4000", []string{"2001:db8::1"}, "2001:db8::/64"},
		{"via proxy, IPv6 client, same /64", "127.0.0.1:4000", []string{"2001:db8::ffff:1"}, "2001:db8::/64"},
		{"via proxy, IPv6 client, another /64", "127.0.0.1:4000", []string{"2001:db8:0:1::1"}, "2001:db8:0:1::/64"},
		{"via proxy, IPv4-mapped client", "127.0.0.1:4000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"direct, IPv6", "[2001:db8:1:2:3:4:5:6]:4000", nil, "2001:db8:1:2::/64"},
		{"direct, IPv6 loopback", "[::1]:4000", nil, "::/64"},
		{"via proxy, only proxies", "127.0.0.1:4000", []string{"10.0.0.1"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}
