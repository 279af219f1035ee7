package server

import (
	"slices"
	"strings"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// filterRooms keeps the rooms whose name or topic contains query, ignoring
// case (every room for the empty query), and leaves archived rooms out
// unless archived is set. It does not change rooms.
func filterRooms(rooms []chat.Room, query string, archived bool) []chat.Room {
	if query == "" && archived {
		return rooms
	}
	q := strings.ToLower(query)
	out := make([]chat.Room, 0, len(rooms))
	for _, r := range rooms {
		if r.Archived && !archived {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(r.Name), q) && !strings.Contains(strings.ToLower(r.Topic), q) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// roomsPage returns the page of rooms (sorted by name) that follows the
// name after ("" for the first page): at most protocol.MaxRoomsPage rooms,
// cut before their names and topics pass protocol.MaxRoomsPageBytes, and
// whether more follow. Without pages, a directory of thousands of rooms
// with long topics made one reply larger than a connection's send queue,
// and everyone who asked for it was closed as a slow consumer.
func roomsPage(rooms []chat.Room, after string) ([]chat.Room, bool) {
	if !slices.IsSortedFunc(rooms, func(a, b chat.Room) int { return strings.Compare(a.Name, b.Name) }) {
		rooms = slices.Clone(rooms)
		slices.SortFunc(rooms, func(a, b chat.Room) int { return strings.Compare(a.Name, b.Name) })
	}
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(rooms, after, func(r chat.Room, name string) int { return strings.Compare(r.Name, name) })
		if start < len(rooms) && rooms[start].Name == after {
			start++
		}
	}
	rooms = rooms[start:]
	size := 0
	for i, r := range rooms {
		// 128 bytes of JSON around each room's name and topic, enough
		// for its other fields.
		size += len(r.Name) + len(r.Topic) + 128
		if i == protocol.MaxRoomsPage || size > protocol.MaxRoomsPageBytes {
			return rooms[:i], true
		}
	}
	return rooms, false
}
