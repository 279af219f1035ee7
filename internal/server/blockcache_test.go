package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// slowBlocks is a chat.Blocks whose Blocked answers what it held when
// called, but only once release is closed: a store read that a change
// overtakes.
type slowBlocks struct {
	chat.Blocks
	mu      sync.Mutex
	blocks  bool
	asked   chan struct{} // gets a value when Blocked has read its answer
	release chan struct{}
}

func (s *slowBlocks) Blocked(ctx context.Context, blocker, blocked string) (bool, error) {
	s.mu.Lock()
	v := s.blocks
	s.mu.Unlock()
	s.asked <- struct{}{}
	<-s.release
	return v, nil
}

// TestBlockCacheForgetOvertakes: an answer read from the store before a
// block was made, and returned after this node forgot the pair, is not
// cached: the next question asks the store again and sees the block at
// once, not after the cache's ttl.
func TestBlockCacheForgetOvertakes(t *testing.T) {
	bl := &slowBlocks{asked: make(chan struct{}, 2), release: make(chan struct{})}
	bc := &blockCache{ttl: time.Hour}
	now := time.Now()
	done := make(chan bool)
	go func() {
		v, _ := bc.blocked(t.Context(), bl, "alice", "mallory", now)
		done <- v
	}()
	<-bl.asked // the read has its (old) answer: no block
	bl.mu.Lock()
	bl.blocks = true // alice blocks mallory on this node …
	bl.mu.Unlock()
	bc.forget("alice", "mallory") // … which forgets the pair
	close(bl.release)
	if got := <-done; got {
		t.Fatalf("the overtaken read = %t, want false (what the store held when asked)", got)
	}
	got, err := bc.blocked(t.Context(), bl, "alice", "mallory", now)
	if err != nil {
		t.Fatal(err)
	}
	if !got {
		t.Errorf("blocked after the block = false, want true: the overtaken answer was cached")
	}
}
