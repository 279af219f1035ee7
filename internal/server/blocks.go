package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Blocks (docs/protocol.md, "Blocking"). An account's blocks are kept in
// the store (Config.Blocks); a change reaches every connection of the
// blocker, on every node, through the per-user topic (hub.UserEvent), as
// read positions do. The server enforces a block in the blocker's DM
// only: the blocked account can neither open it (dm) nor write to it
// (send, edit, react). Hiding the blocked account's messages and typing
// elsewhere is the clients' part.

// errCannotMessage is the refusal of a dm or of an entry in a DM whose
// other user blocks the caller: one neutral sentence, whatever the cause,
// so that it does not tell the blocked account who blocked it.
var errCannotMessage = protocol.Errorf(protocol.CodeForbidden, "you cannot message this user")

// blockOp serves block and unblock.
func (ss *session) blockOp(ctx context.Context, c *conn, cmd *protocol.Command) error {
	bl, err := ss.requireBlocks()
	if err != nil {
		return err
	}
	if cmd.User == ss.self.Name {
		return protocol.Errorf(protocol.CodeInvalidValue, "you cannot block yourself")
	}
	var changed bool
	typ := protocol.TypeBlocked
	if cmd.Op == protocol.OpBlock {
		changed, err = bl.Block(ctx, ss.self.Name, cmd.User, time.Now(), protocol.MaxBlocks)
		switch {
		case errors.Is(err, chat.ErrNoSuchUser):
			return protocol.Errorf(protocol.CodeNoSuchUser, "no user %s", cmd.User)
		case errors.Is(err, chat.ErrBlockLimit):
			return protocol.Errorf(protocol.CodeLimitReached, "you block %d accounts already; unblock one first", protocol.MaxBlocks)
		}
	} else {
		typ = protocol.TypeUnblocked
		changed, err = bl.Unblock(ctx, ss.self.Name, cmd.User)
	}
	if err != nil {
		return err
	}
	if changed {
		ss.srv.blocks.forget(ss.self.Name, cmd.User)
		b, err := protocol.EncodeEvent(&protocol.Event{Type: typ, User: cmd.User})
		if err != nil {
			return err
		}
		// Every session of the account, this one included: the event is
		// how each of them learns of the change, whichever made it.
		ss.srv.hub.UserEvent(ss.userKey(), "", b)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{User: cmd.User})
	return nil
}

// blockList serves blocks.
func (ss *session) blockList(ctx context.Context, c *conn, cmd *protocol.Command) error {
	bl, err := ss.requireBlocks()
	if err != nil {
		return err
	}
	list, err := bl.BlockList(ctx, ss.self.Name)
	if err != nil {
		return err
	}
	ev := protocol.Event{}
	if len(list) > 0 {
		ev.Blocks = list
	}
	ss.replyOK(c, cmd.ID, ev)
	return nil
}

// requireBlocks refuses guests, and every connection of a server that
// keeps no blocks.
func (ss *session) requireBlocks() (chat.Blocks, error) {
	if err := ss.requireAccount(); err != nil {
		return nil, err
	}
	if ss.srv.cfg.Blocks == nil {
		return nil, protocol.Errorf(protocol.CodeForbidden, "this server keeps no blocks")
	}
	return ss.srv.cfg.Blocks, nil
}

// checkDMOpen returns errCannotMessage if peer blocks the caller, asking
// the store: opening a DM is rare, and must see a block made on any node
// at once.
func (ss *session) checkDMOpen(ctx context.Context, peer string) error {
	bl := ss.srv.cfg.Blocks
	if bl == nil || ss.self.Guest {
		return nil
	}
	blocked, err := bl.Blocked(ctx, peer, ss.self.Name)
	if err != nil {
		return err
	}
	if blocked {
		return errCannotMessage
	}
	return nil
}

// checkDMEntry returns errCannotMessage if room is a DM whose other user
// blocks the caller and e is an entry a block refuses: everything but the
// deletion of one's own message. The answer comes from the node's cache
// (blockCache): a block made on this node binds at once, one made on
// another within Config.ModerationCheck.
func (ss *session) checkDMEntry(ctx context.Context, e *chat.NewMessage) error {
	if ss.srv.cfg.Blocks == nil || e.Guest || e.Kind == chat.KindDelete {
		return nil
	}
	a, b, ok := protocol.DMPeers(e.Room)
	if !ok {
		return nil
	}
	peer := a
	if peer == ss.self.Name {
		peer = b
	}
	blocked, err := ss.srv.blocks.blocked(ctx, ss.srv.cfg.Blocks, peer, ss.self.Name, time.Now())
	if err != nil {
		return err
	}
	if blocked {
		return errCannotMessage
	}
	return nil
}

// blockCache holds, per (blocker, blocked) pair asked about, whether the
// block exists, for at most ttl. Its zero value asks the store every time.
type blockCache struct {
	ttl time.Duration // immutable after New

	mu   sync.Mutex
	seen map[blockPair]blockSeen // guarded by mu
	// gen counts forget calls, guarded by mu: an answer read from the
	// store while a forget ran may predate the change it forgets, and is
	// not kept.
	gen uint64
}

type blockPair struct{ blocker, blocked string }

type blockSeen struct {
	blocked bool
	at      time.Time
}

// maxBlockCache bounds the cache: past it, the cache starts over.
const maxBlockCache = 1 << 14

// blocked reports whether blocker blocks blocked, from the cache if the
// answer there is younger than ttl, else from bl.
func (bc *blockCache) blocked(ctx context.Context, bl chat.Blocks, blocker, blocked string, now time.Time) (bool, error) {
	k := blockPair{blocker, blocked}
	bc.mu.Lock()
	s, ok := bc.seen[k]
	gen := bc.gen
	bc.mu.Unlock()
	if ok && now.Sub(s.at) < bc.ttl {
		return s.blocked, nil
	}
	v, err := bl.Blocked(ctx, blocker, blocked)
	if err != nil {
		return false, err
	}
	bc.mu.Lock()
	if bc.gen == gen {
		if bc.seen == nil || len(bc.seen) >= maxBlockCache {
			bc.seen = make(map[blockPair]blockSeen)
		}
		bc.seen[k] = blockSeen{blocked: v, at: now}
	}
	bc.mu.Unlock()
	return v, nil
}

// forget drops the cached answer for the pair, after this node changed it.
func (bc *blockCache) forget(blocker, blocked string) {
	bc.mu.Lock()
	delete(bc.seen, blockPair{blocker, blocked})
	bc.gen++
	bc.mu.Unlock()
}
