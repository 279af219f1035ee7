package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// lostReplyStore is a real store whose next Appends commit and then fail,
// as when PostgreSQL commits a transaction and the connection dies before
// its reply: the message is stored, the server answers an error.
type lostReplyStore struct {
	chat.Store
	mu    sync.Mutex
	fails []error // the errors the next Appends return after committing
}

func (s *lostReplyStore) failNext(errs ...error) {
	s.mu.Lock()
	s.fails = append(s.fails, errs...)
	s.mu.Unlock()
}

func (s *lostReplyStore) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	res, err := s.Store.Append(ctx, batch)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && len(s.fails) > 0 {
		err, s.fails = s.fails[0], s.fails[1:]
		return nil, err
	}
	return res, err
}

func startLostReplyServer(t *testing.T) (*testServer, *lostReplyStore) {
	t.Helper()
	var lrs *lostReplyStore
	s := startServerWrapped(t, server.Config{}, func(st chat.Store) chat.Store {
		lrs = &lostReplyStore{Store: st}
		return lrs
	})
	return s, lrs
}

// TestSendRetriesUnavailableOnce: the store commits the message and loses
// the reply twice (the server answers unavailable); Send retries by itself
// with the same cmid and returns the message as stored, once.
func TestSendRetriesUnavailableOnce(t *testing.T) {
	s, store := startLostReplyServer(t)
	c, _ := dial(t, s, fastOptions("ursula"))
	ctx := t.Context()
	if _, _, err := c.Join(ctx, chat.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	outage := fmt.Errorf("pgstore: append: %w: conn closed", chat.ErrUnavailable)
	store.failNext(outage, outage)
	m, err := c.Send(ctx, chat.DefaultRoom, "stored once")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	stored := allHistory(t, c, chat.DefaultRoom)
	if diff := cmp.Diff([]protocol.Message{m}, stored); diff != "" {
		t.Errorf("stored messages (-Send's ack +history):\n%s", diff)
	}
	if got := s.counter(t, "hubbub_duplicate_sends_total"); got != 1 {
		t.Errorf("server answered %v resends from an earlier commit, want 1 (the third try)", got)
	}
}

// TestSendApplicationRetryStoresOnce: a refusal that Send does not retry
// (internal) after the store committed; the application retries with the
// cmid from the SendError and the message is stored once. A retry with a
// fresh cmid, as Send made before, would store it twice.
func TestSendApplicationRetryStoresOnce(t *testing.T) {
	s, store := startLostReplyServer(t)
	c, _ := dial(t, s, fastOptions("vera"))
	ctx := t.Context()
	if _, _, err := c.Join(ctx, chat.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	store.failNext(errors.New("replica said something odd"))
	_, err := c.Send(ctx, chat.DefaultRoom, "hello once")
	var se *client.SendError
	if !errors.As(err, &se) || protocol.CodeOf(err) != protocol.CodeInternal {
		t.Fatalf("Send = %v, want a *SendError with code internal", err)
	}
	m, err := c.SendWithID(ctx, chat.DefaultRoom, se.CMID, "hello once")
	if err != nil {
		t.Fatalf("SendWithID(%q): %v", se.CMID, err)
	}
	if m.CMID != se.CMID || m.Seq != 1 {
		t.Errorf("retry acknowledged %+v, want cmid %q seq 1", m, se.CMID)
	}
	if got := allHistory(t, c, chat.DefaultRoom); len(got) != 1 {
		t.Errorf("history holds %d messages after the retry, want 1: %+v", len(got), got)
	}
}

// TestSendGivesUpWithCtx: during a long outage Send retries until ctx
// ends, then returns a SendError that wraps both ctx's error and the
// last refusal.
func TestSendGivesUpWithCtx(t *testing.T) {
	s, store := startLostReplyServer(t)
	c, _ := dial(t, s, fastOptions("wanda"))
	if _, _, err := c.Join(t.Context(), chat.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	outage := fmt.Errorf("%w: connection refused", chat.ErrUnavailable)
	for range 1000 {
		store.failNext(outage)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := c.Send(ctx, chat.DefaultRoom, "into the void")
	var se *client.SendError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) || protocol.CodeOf(err) != protocol.CodeUnavailable {
		t.Fatalf("Send = %v, want a *SendError wrapping the deadline and unavailable", err)
	}
	if se.CMID == "" {
		t.Error("SendError has no CMID")
	}
}
