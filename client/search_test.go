package client_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

type hit struct {
	Room string
	Seq  int64
}

func hits(msgs []protocol.Message) []hit {
	var out []hit
	for _, m := range msgs {
		out = append(out, hit{m.Room, m.Seq})
	}
	return out
}

// TestSearch: search finds messages in the rooms a user may read, never in
// a private room they are not in nor in a room they are banned from,
// pages with limit and before, and takes any text as words.
func TestSearch(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	carol, _ := dialAs(t, srv, client.Options{Token: srv.SignUp(t, "carol")})
	ada, _ := dialAs(t, srv, client.Options{Token: srv.SignUp(t, "ada")})
	gus, _ := dialAs(t, srv, client.Options{Name: "gus"})
	for _, room := range []string{"attic", "pub"} {
		create := carol.Create
		if room == "attic" {
			create = carol.CreatePrivate
		}
		if _, err := create(ctx, room, ""); err != nil {
			t.Fatal(err)
		}
	}
	send := func(c *client.Client, room, body string) {
		t.Helper()
		if _, _, err := c.Join(ctx, room); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Send(ctx, room, body); err != nil {
			t.Fatal(err)
		}
	}
	send(gus, "lobby", "has anyone read SICP?")       // lobby#1
	send(carol, "attic", "secret SICP plans")         // attic#1
	send(gus, "lobby", "SICP, chapter 1")             // lobby#2
	send(carol, "pub", "sicp in the pub")             // pub#1
	send(gus, "lobby", "nothing to see")              // lobby#3
	send(gus, "lobby", "a \"quoted\" OR NEAR(x) * -") // lobby#4

	search := func(c *client.Client, query string, opts client.SearchOptions) ([]hit, bool) {
		t.Helper()
		msgs, more, err := c.Search(ctx, query, opts)
		if err != nil {
			t.Fatalf("Search(%q, %+v): %v", query, opts, err)
		}
		return hits(msgs), more
	}
	tests := []struct {
		name  string
		c     *client.Client
		query string
		opts  client.SearchOptions
		want  []hit
		more  bool
	}{
		{"ada never sees the attic", ada, "sicp", client.SearchOptions{}, []hit{{"pub", 1}, {"lobby", 2}, {"lobby", 1}}, false},
		{"carol does", carol, "SICP", client.SearchOptions{}, []hit{{"pub", 1}, {"lobby", 2}, {"attic", 1}, {"lobby", 1}}, false},
		{"a guest sees public rooms", gus, "sicp", client.SearchOptions{}, []hit{{"pub", 1}, {"lobby", 2}, {"lobby", 1}}, false},
		{"all words, last a prefix", ada, "sicp chap", client.SearchOptions{}, []hit{{"lobby", 2}}, false},
		{"one room", carol, "sicp", client.SearchOptions{Room: "attic"}, []hit{{"attic", 1}}, false},
		{"limit", ada, "sicp", client.SearchOptions{Limit: 2}, []hit{{"pub", 1}, {"lobby", 2}}, true},
		{"page one", ada, "sicp", client.SearchOptions{Room: "lobby", Limit: 1}, []hit{{"lobby", 2}}, true},
		{"page two", ada, "sicp", client.SearchOptions{Room: "lobby", Limit: 1, Before: 2}, []hit{{"lobby", 1}}, false},
		{"operators are words", ada, `quoted OR NEAR`, client.SearchOptions{}, []hit{{"lobby", 4}}, false},
	}
	for _, tt := range tests {
		got, more := search(tt.c, tt.query, tt.opts)
		// Messages of one send each: the commit order is the order above,
		// but two rooms may share a millisecond; compare within rooms by
		// the order the server gave and across rooms as a set.
		if diff := cmp.Diff(tt.want, got, cmpSortHits); diff != "" || more != tt.more {
			t.Errorf("%s: more %v, want %v (-want +got):\n%s", tt.name, more, tt.more, diff)
		}
	}
	for _, q := range []string{`"`, `*`, `NEAR(`, `-`, `OR`, `'`, `\`, `a & !b`, `)(`, `body:x`} {
		if _, _, err := ada.Search(ctx, q, client.SearchOptions{}); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
	if _, _, err := ada.Search(ctx, "secret", client.SearchOptions{Room: "attic"}); protocol.CodeOf(err) != protocol.CodeNoSuchRoom {
		t.Errorf("ada's search of the attic: %v, want %s", err, protocol.CodeNoSuchRoom)
	}

	// Banned from pub: its messages are gone from ada's results.
	if err := carol.Ban(ctx, "pub", "ada", "", 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := search(ada, "sicp", client.SearchOptions{Limit: 2}); !cmp.Equal([]hit{{"lobby", 2}, {"lobby", 1}}, got) {
		t.Errorf("after the ban from pub, ada finds %v", got)
	}
	if _, _, err := ada.Search(ctx, "sicp", client.SearchOptions{Room: "pub"}); protocol.CodeOf(err) != protocol.CodeBanned {
		t.Errorf("ada's search of pub after the ban: %v, want %s", err, protocol.CodeBanned)
	}
}

// cmpSortHits keeps the order within each room and ignores it across rooms.
var cmpSortHits = cmp.Transformer("byRoom", func(hs []hit) map[string][]int64 {
	out := map[string][]int64{}
	for _, h := range hs {
		out[h.Room] = append(out[h.Room], h.Seq)
	}
	return out
})

// TestSearchRate: a search is a command, limited by the command rate.
func TestSearchRate(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.CmdRate, c.CmdBurst = 0.001, 3 })
	ada, _ := dialAs(t, srv, client.Options{Name: "ada"}) // hello takes one
	var codes []protocol.Code
	for range 3 {
		_, _, err := ada.Search(t.Context(), "x", client.SearchOptions{})
		code := protocol.Code("")
		if err != nil {
			code = protocol.CodeOf(err)
		}
		codes = append(codes, code)
	}
	if diff := cmp.Diff([]protocol.Code{"", "", protocol.CodeRateLimited}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}
