package client_test

import (
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

func directoryEvent(change, room string) func([]client.Event) bool {
	return func(evs []client.Event) bool {
		for _, ev := range evs {
			if o, ok := ev.(client.OtherEvent); ok && o.Event.Type == protocol.TypeDirectory && o.Event.Change == change && o.Event.Room == room {
				return true
			}
		}
		return false
	}
}

// TestRoomLifecycle: archive, search, unarchive and delete through the
// client; a member in a deleted room stops counting itself in it, so the
// room made later under the same name is joined afresh from seq 0.
func TestRoomLifecycle(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, bobEvents := register(t, srv, "bob")
	if _, err := ada.Create(ctx, "ops", "Deploys and outages"); err != nil {
		t.Fatal(err)
	}
	bobEvents.wait(t, 10*time.Second, "created", directoryEvent(protocol.ChangeCreated, "ops"))
	if _, _, err := bob.Join(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, "ops", "one"); err != nil {
		t.Fatal(err)
	}
	rooms, err := bob.SearchRooms(ctx, "OUTAGE", false)
	if err != nil || len(rooms) != 1 || rooms[0].Name != "ops" {
		t.Errorf("SearchRooms(OUTAGE) = %v, %v; want ops", rooms, err)
	}

	if err := ada.ArchiveRoom(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	bobEvents.wait(t, 10*time.Second, "archived", directoryEvent(protocol.ChangeArchived, "ops"))
	if _, err := bob.Send(ctx, "ops", "two"); protocol.CodeOf(err) != protocol.CodeArchived {
		t.Errorf("Send to an archived room: %v, want archived", err)
	}
	if rooms, err := bob.SearchRooms(ctx, "ops", false); err != nil || len(rooms) != 0 {
		t.Errorf("SearchRooms without archived = %v, %v; want none", rooms, err)
	}
	if rooms, err := bob.SearchRooms(ctx, "ops", true); err != nil || len(rooms) != 1 || !rooms[0].Archived {
		t.Errorf("SearchRooms with archived = %v, %v; want ops, archived", rooms, err)
	}
	if err := ada.UnarchiveRoom(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	bobEvents.wait(t, 10*time.Second, "unarchived", directoryEvent(protocol.ChangeUnarchived, "ops"))

	if err := ada.DeleteRoom(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	bobEvents.wait(t, 10*time.Second, "deleted", directoryEvent(protocol.ChangeDeleted, "ops"))
	if err := ada.DeleteRoom(ctx, "ops"); protocol.CodeOf(err) != protocol.CodeNoSuchRoom {
		t.Errorf("DeleteRoom again: %v, want no_such_room", err)
	}
	// A new room under the old name: bob joins it as a new room, and gets
	// its first message though its seq (1) is below what he saw before.
	if _, err := ada.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	info, _, err := bob.Join(ctx, "ops")
	if err != nil || info.LastSeq != 0 {
		t.Fatalf("Join of the new ops = %+v, %v; want last_seq 0", info, err)
	}
	if _, _, err := ada.Join(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.Send(ctx, "ops", "fresh"); err != nil {
		t.Fatal(err)
	}
	bobEvents.wait(t, 10*time.Second, "the new room's first message", func(evs []client.Event) bool {
		for _, ev := range evs {
			if m, ok := ev.(client.MessageEvent); ok && m.Message.Room == "ops" && m.Message.Body == "fresh" {
				return true
			}
		}
		return false
	})
}
