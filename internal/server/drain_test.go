package server

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// drainRecord is what the client end of a pipe connection saw of the
// server's close frame: when (since the test's start) and with which code.
type drainRecord struct {
	mu    sync.Mutex
	at    time.Duration
	code  int           // 0: no close frame (yet)
	ended time.Duration // when the read ended without a close frame; 0: it did not
}

// drainReader reads c until the server's close frame, records it, answers
// it with a close frame of the same code, and returns.
func drainReader(c *rawPipeConn, start time.Time) *drainRecord {
	rec := new(drainRecord)
	go func() {
		for {
			f, err := rawReadFrame(c.br)
			if err != nil {
				rec.mu.Lock()
				rec.ended = time.Since(start)
				rec.mu.Unlock()
				return
			}
			if f.opcode != rawOpClose {
				continue
			}
			rec.mu.Lock()
			rec.at = time.Since(start)
			if len(f.payload) >= 2 {
				rec.code = int(binary.BigEndian.Uint16(f.payload))
			}
			rec.mu.Unlock()
			c.nc.Write(rawEncodeFrame(rawFrame{fin: true, opcode: rawOpClose, masked: true, payload: f.payload[:min(2, len(f.payload))]}))
			return
		}
	}()
	return rec
}

func (r *drainRecord) get() (time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at, r.code
}

func readyzStatus(srv *Server) int {
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return w.Code
}

// TestShutdownDrainsLikeALameDuck checks the three steps of Shutdown in
// fake time: /readyz is 503 at once while sockets stay open and new ones
// are still served for the grace; then upgrades are refused and the
// sockets get 1012, one at a time, spread over the window; then Shutdown
// returns.
func TestShutdownDrainsLikeALameDuck(t *testing.T) {
	const (
		grace  = 5 * time.Second
		window = 10 * time.Second
		n      = 10 // sockets open before Shutdown; one more joins during the grace
	)
	store, broker := rawBackends(t)
	synctest.Test(t, func(t *testing.T) {
		srv, err := New(Config{Store: store, Broker: broker, DrainGrace: grace, DrainWindow: window})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var conns []*rawPipeConn
		var recs []*drainRecord
		dial := func() error {
			c, err := rawPipeDial(srv, "/echo")
			if err != nil {
				return err
			}
			conns = append(conns, c)
			recs = append(recs, drainReader(c, start))
			return nil
		}
		t.Cleanup(func() {
			for _, c := range conns {
				c.nc.Close()
				<-c.served
			}
		})
		for range n {
			if err := dial(); err != nil {
				t.Fatal(err)
			}
		}
		if got := readyzStatus(srv); got != http.StatusOK {
			t.Fatalf("readyz before Shutdown = %d, want 200", got)
		}

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- srv.Shutdown(ctx) }()
		synctest.Wait()
		if got := readyzStatus(srv); got != http.StatusServiceUnavailable {
			t.Errorf("readyz right after Shutdown began = %d, want 503", got)
		}

		time.Sleep(time.Second)
		if err := dial(); err != nil {
			t.Errorf("a handshake 1s into the grace: %v, want it served", err)
		}
		time.Sleep(grace - time.Second - time.Millisecond)
		synctest.Wait()
		for i, r := range recs {
			if at, code := r.get(); code != 0 {
				t.Errorf("socket %d got close %d at %v, during the grace", i, code, at)
			}
		}

		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if _, err := rawPipeDial(srv, "/echo"); err == nil {
			t.Error("a handshake after the grace was served, want 503")
		}

		time.Sleep(window)
		synctest.Wait()
		var times []time.Duration
		for i, r := range recs {
			at, code := r.get()
			if code != protocol.CloseServiceRestart {
				t.Errorf("socket %d: close code %d, want %d", i, code, protocol.CloseServiceRestart)
				continue
			}
			if at < grace || at > grace+window {
				t.Errorf("socket %d closed at %v, want within [%v, %v]", i, at, grace, grace+window)
			}
			times = append(times, at)
		}
		slices.Sort(times)
		// Spread evenly: the i-th of n+1 at grace + i·window/(n+1).
		for i, at := range times {
			want := grace + window*time.Duration(i)/time.Duration(n+1)
			if at != want {
				t.Errorf("close %d of %d at %v, want %v", i, len(times), at, want)
			}
		}
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Shutdown = %v, want nil", err)
			}
		default:
			t.Error("Shutdown has not returned after every socket closed")
		}
	})
}

// TestShutdownDeadlineCutsTheDrainShort: a ctx that ends during the grace
// cuts every socket at once and Shutdown returns right then.
func TestShutdownDeadlineCutsTheDrainShort(t *testing.T) {
	store, broker := rawBackends(t)
	synctest.Test(t, func(t *testing.T) {
		srv, err := New(Config{Store: store, Broker: broker, DrainGrace: time.Minute, DrainWindow: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c, err := rawPipeDial(srv, "/echo")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close(); <-c.served })
		rec := drainReader(c, start)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("Shutdown took %v with a 3s deadline", took)
		}
		synctest.Wait()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.ended != 3*time.Second && rec.at != 3*time.Second {
			t.Errorf("socket ended at %v (close frame %d at %v), want at 3s", rec.ended, rec.code, rec.at)
		}
	})
}
