package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hubbub-chat/hubbub/internal/server"
)

// serveDebug serves Go's profiler (net/http/pprof) on addr until ctx ends.
// It is off unless --debug-addr is given, and belongs on a loopback or
// otherwise private address: profiles show internals, not message bodies.
// It answers the Host names the chat's listener does (hosts): a page that
// rebinds its name to the loopback must not read the command line, which
// may hold the store's password. It returns once the listener is open; a
// failure to open it is returned.
func serveDebug(addr string, hosts *server.HostPolicy, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: hosts.Guard(mux), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug server", "err", err)
		}
	}()
	log.Info("profiler serving", "addr", ln.Addr().String())
	return func() {
		hs.Close()
		<-done
	}, nil
}
