package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// BenchmarkHistoryPage: one page of 100 messages after a recent seq, as a
// resuming client asks for it, from the room's latest messages in memory
// (Server.recentHistory) and from the store (what history does without
// them), both up to the protocol.Message values the reply is encoded from.
func BenchmarkHistoryPage(b *testing.B) {
	srv := benchServer(b)
	room := chat.DefaultRoom
	if _, err := srv.hub.Join(b.Context(), room, &discard{}, "u"); err != nil {
		b.Fatal(err)
	}
	const n = 1000
	done := make(chan error, n)
	for i := range n {
		srv.commit.submit(pendingSend{
			msg:  chat.NewMessage{Room: room, Author: "bench", Guest: true, Body: fmt.Sprint("message number ", i), CMID: fmt.Sprint(i)},
			done: func(_ chat.AppendResult, err error) { done <- err },
		})
	}
	for range n {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	for srv.hub.Head(room) < n {
		time.Sleep(time.Millisecond)
	}
	const after, limit = n - 300, 100
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			out, _, ok := srv.recentHistory(b.Context(), room, after, limit)
			if !ok || len(out) != limit {
				b.Fatalf("recentHistory: %d messages, ok %v", len(out), ok)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			msgs, err := srv.cfg.Store.HistoryAfter(b.Context(), room, after, limit+1)
			if err != nil || len(msgs) != limit+1 {
				b.Fatalf("HistoryAfter: %d messages, %v", len(msgs), err)
			}
			for _, m := range msgs[:limit] {
				pm := wireMessage(m)
				pm.File = srv.storedFile(b.Context(), m.FileID)
			}
		}
	})
}
