package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Room lifecycle: archive, unarchive and delete (owner and server
// administrators), the sweeper of idle guest-made rooms, and the
// directory events that tell every connection of every node about rooms
// created, archived, unarchived and deleted.
//
// Directory events travel on the broker topic directoryTopic, as a
// dirNote: the encoded event and, for a private room, the user keys that
// may see it. Every node (this one too, through the broker) hands each
// event to its identified connections that may see the room, and takes
// the connections in a deleted room out of it. The broker may lose a
// note: what must hold does not depend on it. A deleted room is gone from
// the store (a send to it fails with no_such_room); an archived room
// refuses sends within Config.ModerationCheck on every node (roomCache).

// directoryTopic is the broker topic of directory notes. Room names never
// start with '@', so it cannot collide with a room.
const directoryTopic = "@directory"

// dirNote is the payload of directoryTopic.
type dirNote struct {
	Event json.RawMessage `json:"event"`
	// Users, when not nil, are the user keys that may see the room (a
	// private room's role holders); nil means everyone.
	Users []string `json:"users,omitempty"`
}

// directory holds the identified connections of this node, the
// recipients of directory events. Its methods are safe for concurrent
// use.
type directory struct {
	mu   sync.Mutex
	subs map[*userTopic]struct{} // guarded by mu
}

func (d *directory) add(u *userTopic) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.subs == nil {
		d.subs = make(map[*userTopic]struct{})
	}
	d.subs[u] = struct{}{}
}

func (d *directory) remove(u *userTopic) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.subs, u)
}

func (d *directory) snapshot() []*userTopic {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*userTopic, 0, len(d.subs))
	for u := range d.subs {
		out = append(out, u)
	}
	return out
}

// publishDirectory sends ev to every node's connections that may see the
// room: everyone, or only users when users is not nil.
func (s *Server) publishDirectory(ctx context.Context, ev *protocol.Event, users []string) {
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		s.log.Error("encode directory event", "err", err)
		return
	}
	note, err := json.Marshal(dirNote{Event: b, Users: users})
	if err != nil {
		s.log.Error("encode directory note", "err", err)
		return
	}
	if err := s.cfg.Broker.Publish(ctx, directoryTopic, note); err != nil {
		// The store is right; other nodes learn of a deletion from the
		// store (no_such_room), of an archive within ModerationCheck.
		s.log.Warn("publish directory event failed", "room", ev.Room, "err", err)
	}
}

// fromDirectory handles one note from the broker. It runs on the broker's
// goroutine, so it only queues; leaving a room happens on a goroutine of
// its own.
func (s *Server) fromDirectory(payload []byte) {
	var note dirNote
	if err := json.Unmarshal(payload, &note); err != nil {
		s.log.Warn("bad directory note", "err", err)
		return
	}
	ev, err := protocol.DecodeEvent(note.Event)
	if err != nil || ev.Type != protocol.TypeDirectory {
		s.log.Warn("bad directory event", "err", err)
		return
	}
	s.roomRows.forget(ev.Room)
	s.roles.forget(ev.Room)
	var leaving []*userTopic
	for _, u := range s.dir.snapshot() {
		u.ss.mu.Lock()
		_, in := u.ss.joined.get(ev.Room)
		u.ss.mu.Unlock()
		if note.Users != nil && !in && !slices.Contains(note.Users, u.key) {
			continue
		}
		u.c.enqueue(outMsg{data: note.Event})
		if in && ev.Change == protocol.ChangeDeleted {
			leaving = append(leaving, u)
		}
	}
	if len(leaving) > 0 {
		s.bg.Go(func() {
			for _, u := range leaving {
				u.ss.forceLeave(u.c, ev.Room)
			}
		})
	}
}

// errArchived is the refusal of a write to an archived room.
func errArchived(room string) error {
	return protocol.Errorf(protocol.CodeArchived, "%s is archived: it is read-only", room)
}

// checkWritable refuses new entries (appendEntry) and typing in an archived room, by the
// store's word at most Config.ModerationCheck old.
func (ss *session) checkWritable(ctx context.Context, room string) error {
	r, err := ss.srv.roomRows.get(ctx, ss.srv.cfg.Store, room, time.Now())
	if err != nil {
		return err
	}
	if r.Archived {
		return errArchived(room)
	}
	return nil
}

// lifecycle serves archive_room, unarchive_room and delete_room.
func (ss *session) lifecycle(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	r, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if _, _, dm := protocol.DMPeers(cmd.Room); dm || cmd.Room == chat.DefaultRoom {
		return protocol.Errorf(protocol.CodeForbidden, "%s can be neither archived nor deleted", cmd.Room)
	}
	if rank(role, ss.admin()) < 3 {
		return protocol.Errorf(protocol.CodeForbidden, "only the owner of %s may do that", cmd.Room)
	}
	// A private room's change goes to its role holders, read before a
	// deletion takes the roles away.
	var users []string
	if r.Private {
		members, err := ss.srv.cfg.Access.Members(ctx, cmd.Room)
		if err != nil {
			return err
		}
		users = make([]string, 0, len(members))
		for _, m := range members {
			users = append(users, m.User)
		}
	}
	ev := &protocol.Event{Type: protocol.TypeDirectory, Room: cmd.Room, By: ss.self.Name}
	store := ss.srv.cfg.Store
	switch cmd.Op {
	case protocol.OpDeleteRoom:
		if err := store.DeleteRoom(ctx, cmd.Room); err != nil {
			return err
		}
		ss.srv.filesDeleted()
		ev.Change = protocol.ChangeDeleted
	default:
		archive := cmd.Op == protocol.OpArchiveRoom
		if err := store.SetArchived(ctx, cmd.Room, archive); err != nil {
			return err
		}
		ev.Change = protocol.ChangeUnarchived
		if archive {
			ev.Change = protocol.ChangeArchived
		}
		r.Archived = archive
		info := dirInfo(r)
		ev.Info = &info
	}
	ss.srv.roomRows.forget(cmd.Room)
	ss.srv.roles.forget(cmd.Room)
	ss.srv.log.Info("room lifecycle", "op", cmd.Op, "room", cmd.Room)
	// The reply first: the caller, if in the room, is out of it once the
	// event arrives.
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	ss.srv.publishDirectory(ctx, ev, users)
	return nil
}

// dirInfo is a room as directory events describe it: no role, online 0.
func dirInfo(r chat.Room) protocol.RoomInfo {
	return protocol.RoomInfo{Name: r.Name, Topic: r.Topic, Private: r.Private, LastSeq: r.LastSeq, Archived: r.Archived}
}

// sweepRooms runs while the server does, when Config.GuestRoomTTL is
// positive: every guestRoomRound, it marks the rooms this node's
// connections are in as active in the store, then deletes the guest-made
// rooms idle for GuestRoomTTL (nobody in them on any node, no message)
// and announces each deletion. Every node does both; the store reports
// each deleted room to one node only, so each deletion is announced once.
func (s *Server) sweepRooms(quit <-chan struct{}) {
	t := time.NewTicker(s.guestRoomRound())
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.sweepRoomsOnce(ctx, time.Now())
		cancel()
	}
}

// guestRoomRound is how often a node marks its rooms active and sweeps:
// a quarter of the TTL, at most a minute. A room with someone in it on a
// live node is marked well within every TTL.
func (s *Server) guestRoomRound() time.Duration {
	return min(s.cfg.GuestRoomTTL/4, time.Minute)
}

// sweepRoomsMax is the most rooms one sweep round deletes.
const sweepRoomsMax = 500

func (s *Server) sweepRoomsOnce(ctx context.Context, now time.Time) {
	s.marked.Clear() // markJoined's memory need not outlive a round
	if rooms := s.hub.Rooms(); len(rooms) > 0 {
		if err := s.cfg.Store.MarkActive(ctx, rooms, now); err != nil {
			s.log.Warn("marking rooms active failed; not sweeping", "err", err)
			return
		}
	}
	names, err := s.cfg.Store.DeleteIdleGuestRooms(ctx, now.Add(-s.cfg.GuestRoomTTL), sweepRoomsMax)
	if err != nil {
		s.log.Warn("deleting idle guest rooms failed", "err", err)
		return
	}
	if len(names) > 0 {
		s.filesDeleted()
	}
	for _, name := range names {
		s.log.Info("guest room expired", "room", name)
		s.publishDirectory(ctx, &protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: name}, nil)
	}
}

// markJoined records at once that a guest-made room has someone in it,
// on the first join of it on this node in a sweep round, so that a sweep
// elsewhere that runs before this node's next round spares it.
func (ss *session) markJoined(ctx context.Context, r chat.Room) {
	s := ss.srv
	if !r.GuestOwner || s.cfg.GuestRoomTTL <= 0 {
		return
	}
	now := time.Now()
	if v, ok := s.marked.Load(r.Name); ok && now.Sub(v.(time.Time)) < s.guestRoomRound() {
		return
	}
	if err := s.cfg.Store.MarkActive(ctx, []string{r.Name}, now); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("marking a room active failed", "room", r.Name, "err", err)
		return
	}
	s.marked.Store(r.Name, now)
}
