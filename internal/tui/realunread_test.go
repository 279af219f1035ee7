package tui

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
)

// The tests of this file drive the Model with the real client against a
// real server (servertest), feeding it the client's events as Run does.

// dialReal connects a client to url with opts; it is closed when t ends.
func dialReal(t *testing.T, url string, opts client.Options) *client.Client {
	t.Helper()
	if opts.BackoffBase == 0 {
		opts.BackoffBase, opts.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	}
	c, err := client.Dial(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newRealHarness is newHarness with a real client, whose events pump
// feeds to the Model.
func newRealHarness(t *testing.T, c *client.Client, width, height int, join ...string) *harness {
	t.Helper()
	clock := &fakeClock{t: time.Now()}
	m := New(Options{Client: c, Server: "test", Join: join, Location: time.UTC, Now: clock.now})
	m.tick = func() tea.Cmd { return nil }
	h := &harness{t: t, m: m, clock: clock}
	m.ring = func() { h.bells.Add(1) }
	h.run(m.Init())
	h.send(tea.WindowSizeMsg{Width: width, Height: height})
	return h
}

// network is a TCP proxy to a server that can go down: while down, it
// cuts every connection and refuses new ones.
type network struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func newNetwork(t *testing.T, target string) *network {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &network{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			cc, err := ln.Accept()
			if err != nil {
				return
			}
			n.mu.Lock()
			down := n.down
			n.mu.Unlock()
			sc, err := net.Dial("tcp", target)
			if down || err != nil {
				cc.Close()
				continue
			}
			n.mu.Lock()
			n.conns = append(n.conns, cc, sc)
			n.mu.Unlock()
			wg.Go(func() { io.Copy(sc, cc); sc.Close() })
			wg.Go(func() { io.Copy(cc, sc); cc.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		n.setDown(true)
		wg.Wait()
	})
	return n
}

// setDown takes the network down (cutting what is open) or up again.
func (n *network) setDown(down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = down
	if down {
		for _, c := range n.conns {
			c.Close()
		}
		n.conns = nil
	}
}

// pump feeds c's events to h until the view shows want, or fails the test
// after a few seconds.
func (h *harness) pump(c *client.Client, want string) {
	h.t.Helper()
	h.pumpUntil(c, fmt.Sprintf("the view to show %q", want), func() bool { return strings.Contains(h.view(), want) })
}

// pumpUntil feeds c's events to h until cond holds, or fails the test
// after a few seconds.
func (h *harness) pumpUntil(c *client.Client, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case ev := <-c.Events():
			h.events(ev)
		case <-deadline:
			h.t.Fatalf("waiting for %s:\n%s", what, h.view())
		}
	}
}

// TestUnreadRealServer: a room's unread and mention counts follow what
// really happened while the terminal client was away or looking
// elsewhere: a message deleted after it came, or deleted before the client
// caught up with it, is not unread, and one edited not to mention the user
// no longer counts as a mention; and a room another device of the account
// read while this one was disconnected is read here too once it is back.
func TestUnreadRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	netw := newNetwork(t, strings.TrimPrefix(srv.URL, "http://"))
	ctx := t.Context()
	tok := srv.SignUp(t, "ada")
	grace := dialReal(t, srv.WSURL, client.Options{Name: "grace"})
	if _, err := grace.Create(ctx, "books", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(ctx, "books"); err != nil {
		t.Fatal(err)
	}
	say := func(body string) int64 {
		t.Helper()
		m, err := grace.Send(ctx, "books", body)
		if err != nil {
			t.Fatal(err)
		}
		return m.Seq
	}
	del := func(seq int64) {
		t.Helper()
		if _, err := grace.Delete(ctx, "books", seq); err != nil {
			t.Fatal(err)
		}
	}

	// ada's terminal, through a network that can fail, shows the lobby;
	// books is beside it.
	term := dialReal(t, "ws://"+netw.ln.Addr().String()+"/ws", client.Options{Token: tok})
	h := newRealHarness(t, term, 100, 30, "lobby", "books")
	h.pump(term, "#books")

	one := say("one")
	two := say("two")
	h.pump(term, "#books           (2)│")
	// Deleted after it came: one unread left.
	del(one)
	h.pump(term, "#books           (1)│")
	// A mention, and the same message edited not to mention ada.
	hey := say("hey @ada")
	h.pump(term, "#books        @1 (2)│")
	if _, err := grace.Edit(ctx, "books", hey, "hey all"); err != nil {
		t.Fatal(err)
	}
	h.pump(term, "#books           (2)│")
	del(hey)
	h.pump(term, "#books           (1)│")

	// Away: a message comes and goes, another stays, and ada reads
	// books up to "two" on her phone.
	netw.setDown(true)
	h.pump(term, "○ reconnecting")
	gone := say("gone before ada is back")
	del(gone)
	still := say("still here")
	phone := dialReal(t, srv.WSURL, client.Options{Token: tok})
	if err := phone.Read(ctx, "books", two); err != nil {
		t.Fatal(err)
	}
	netw.setDown(false)
	h.pump(term, "● ada")
	h.pumpUntil(term, "the catch-up of #books", func() bool { return h.m.find("books").lastSeq() >= still })
	h.wantView("#books           (1)│")
}
