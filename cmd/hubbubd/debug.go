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

// privateMux is what hubbubd serves on its private listeners: Go's
// profiler (net/http/pprof) when debug is set, the Prometheus metrics at
// /metrics when metrics is not nil.
func privateMux(debug bool, metrics http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	if debug {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

// servePrivate serves mux on addr, a listener apart from the chat's:
// --debug-addr's profiler and --metrics-addr's metrics. It belongs on a
// loopback or otherwise private address: profiles show internals (not
// message bodies), metrics the node's load. It answers the Host names the
// chat's listener does (hosts), and /metrics, as there, whatever the
// Host: a page that rebinds its name to the loopback must not read the
// command line, which may hold the store's password. It returns once the listener is open; a failure to open it is
// returned. stop closes it and waits.
func servePrivate(what, addr string, mux http.Handler, hosts *server.HostPolicy, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: hosts.Guard(mux), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("private listener", "serves", what, "err", err)
		}
	}()
	log.Info("private listener", "serves", what, "addr", ln.Addr().String())
	return func() {
		hs.Close()
		<-done
	}, nil
}
