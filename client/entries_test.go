package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestEntries edits, deletes, reacts and replies with the real client on a
// real server, and checks the acks, the refusals, what the room receives,
// and that Apply folds the live entries into the state history shows, from
// scratch or on top of an earlier history page.
func TestEntries(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, bobEvents := register(t, srv, "bob")
	if _, err := ada.Create(ctx, "talk", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{ada, bob} {
		if _, _, err := c.Join(ctx, "talk"); err != nil {
			t.Fatal(err)
		}
	}
	must := func(m protocol.Message, err error) protocol.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	code := func(_ protocol.Message, err error) protocol.Code { return protocol.CodeOf(err) }

	must(bob.Send(ctx, "talk", "helo"))                 // 1
	must(ada.Send(ctx, "talk", "has anyone..."))        // 2
	reply := must(bob.SendReply(ctx, "talk", 2, "yes")) // 3
	if reply.ReplyTo != 2 || reply.Seq != 3 {
		t.Errorf("reply = %+v, want seq 3 answering 2", reply)
	}
	edit := must(bob.Edit(ctx, "talk", 1, "hello")) // 4
	if edit.Kind != protocol.KindEdit || edit.Target != 1 || edit.Body != "hello" || edit.From != "bob" {
		t.Errorf("edit = %+v", edit)
	}
	var kinds []string
	for _, r := range []struct {
		c     *client.Client
		seq   int64
		emoji string
	}{{ada, 1, "👍"}, {bob, 1, "👍"}, {ada, 1, "👍"}, {bob, 2, "❤️"}} { // 5-8
		kinds = append(kinds, must(r.c.React(ctx, "talk", r.seq, r.emoji)).Kind)
	}
	if diff := cmp.Diff([]string{"react", "react", "unreact", "react"}, kinds); diff != "" {
		t.Errorf("react kinds (-want +got):\n%s", diff)
	}
	page, _, err := ada.HistoryAfter(ctx, "talk", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The owner deletes bob's message; bob may not delete ada's.
	del := must(ada.Delete(ctx, "talk", 1)) // 9
	if del.Kind != protocol.KindDelete || del.Target != 1 || del.From != "ada" {
		t.Errorf("delete = %+v", del)
	}

	refused := []struct {
		name string
		got  protocol.Code
		want protocol.Code
	}{
		{"ada edits bob's message", code(ada.Edit(ctx, "talk", 3, "no")), protocol.CodeForbidden},
		{"bob deletes ada's message", code(bob.Delete(ctx, "talk", 2)), protocol.CodeForbidden},
		{"edit of a deleted message", code(bob.Edit(ctx, "talk", 1, "again")), protocol.CodeNoSuchMessage},
		{"react to a deleted message", code(bob.React(ctx, "talk", 1, "👍")), protocol.CodeNoSuchMessage},
		{"reply to a deleted message", code(bob.SendReply(ctx, "talk", 1, "re")), protocol.CodeNoSuchMessage},
		{"react to an entry", code(bob.React(ctx, "talk", 4, "👍")), protocol.CodeNoSuchMessage},
		{"delete of a missing seq", code(bob.Delete(ctx, "talk", 99)), protocol.CodeNoSuchMessage},
		{"text as an emoji", code(bob.React(ctx, "talk", 2, "ok")), protocol.CodeInvalidValue},
		{"edit in a room not joined", code(bob.Edit(ctx, "lobby", 1, "x")), protocol.CodeNotJoined},
	}
	for _, r := range refused {
		if r.got != r.want {
			t.Errorf("%s: code %q, want %q", r.name, r.got, r.want)
		}
	}

	bobEvents.waitSeq(t, "talk", 9)
	final, _, err := ada.HistoryAfter(ctx, "talk", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(final) != 9 {
		t.Fatalf("history has %d entries, want 9", len(final))
	}
	if m := final[0]; !m.Deleted || m.Body != "" || m.Edited == 0 || m.Reactions != nil || m.V != 9 {
		t.Errorf("deleted message in history = %+v", m)
	}
	if m := final[3]; m.Kind != protocol.KindEdit || m.Body != "" {
		t.Errorf("edit of the deleted message in history = %+v, want its body gone", m)
	}
	if diff := cmp.Diff([]protocol.Reaction{{Emoji: "❤️", Users: []string{"bob"}}}, final[1].Reactions); diff != "" {
		t.Errorf("reactions of message 2 (-want +got):\n%s", diff)
	}

	// Fold bob's live events: from scratch, and on top of the earlier
	// page (whose state already holds entries 4 to 8: Apply skips them).
	var live []protocol.Message
	for _, ev := range bobEvents.messages("talk") {
		live = append(live, ev.Message)
	}
	wantState := plainState(final)
	if diff := cmp.Diff(wantState, fold(live, live), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("live entries folded (-history +folded):\n%s", diff)
	}
	if diff := cmp.Diff(wantState, fold(page, live), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("earlier page + live entries folded (-history +folded):\n%s", diff)
	}
}

// fold applies every entry of entries, twice, to the plain messages of
// base, and returns their state.
func fold(base, entries []protocol.Message) []protocol.Message {
	msgs := plainState(base)
	for range 2 {
		for _, e := range entries {
			for i := range msgs {
				client.Apply(&msgs[i], e)
			}
		}
	}
	return msgs
}

// plainState returns copies of the plain messages of msgs, without what
// Apply does not keep (the live event of a plain message has no state).
func plainState(msgs []protocol.Message) []protocol.Message {
	var out []protocol.Message
	for _, m := range msgs {
		if m.Kind == "" {
			m.Reactions = append([]protocol.Reaction(nil), m.Reactions...)
			for i := range m.Reactions {
				m.Reactions[i].Users = append([]string(nil), m.Reactions[i].Users...)
			}
			out = append(out, m)
		}
	}
	return out
}

// TestEntriesResume cuts a client off, edits and deletes while it is away,
// and checks that the resumed client receives both entries, once each.
func TestEntriesResume(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx := t.Context()
	writer, _ := dial(t, s, fastOptions("writer"))
	opts := fastOptions("reader")
	opts.BackoffBase, opts.BackoffMax = 300*time.Millisecond, 300*time.Millisecond
	reader, readerEvents := dial(t, s, opts)
	for _, c := range []*client.Client{writer, reader} {
		if _, _, err := c.Join(ctx, "lobby"); err != nil {
			t.Fatal(err)
		}
	}
	first, err := writer.Send(ctx, "lobby", "draft")
	if err != nil {
		t.Fatal(err)
	}
	second, err := writer.Send(ctx, "lobby", "keep")
	if err != nil {
		t.Fatal(err)
	}
	readerEvents.waitSeq(t, "lobby", second.Seq)

	s.lastConn().Conn.Close() // the reader's
	readerEvents.wait(t, 10*time.Second, "the reader's reconnecting state", func(evs []client.Event) bool {
		for _, ev := range evs {
			if st, ok := ev.(client.StateEvent); ok && st.State == client.Reconnecting {
				return true
			}
		}
		return false
	})
	edctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := writer.Edit(edctx, "lobby", second.Seq, "kept"); err != nil {
		t.Fatal(err)
	}
	del, err := writer.Delete(edctx, "lobby", first.Seq)
	if err != nil {
		t.Fatal(err)
	}
	readerEvents.waitSeq(t, "lobby", del.Seq)

	msgs := readerEvents.messages("lobby")
	var seqs []int64
	for _, m := range msgs {
		seqs = append(seqs, m.Message.Seq)
	}
	if diff := cmp.Diff([]int64{first.Seq, second.Seq, second.Seq + 1, second.Seq + 2}, seqs); diff != "" {
		t.Fatalf("reader's seqs (-want +got):\n%s", diff)
	}
	a, b := msgs[0].Message, msgs[1].Message
	for _, e := range msgs[2:] {
		client.Apply(&a, e.Message)
		client.Apply(&b, e.Message)
	}
	if !a.Deleted || a.Body != "" || b.Body != "kept" || b.Edited == 0 {
		t.Errorf("after folding: first = %+v, second = %+v", a, b)
	}
}

// TestApply pins the rule for entries out of order, repeated, of another
// message or room, and of unknown kinds.
func TestApply(t *testing.T) {
	base := protocol.Message{Room: "r", Seq: 1, From: "ada", Body: "hi", V: 5}
	e := func(seq int64, kind, from, body string) protocol.Message {
		return protocol.Message{Room: "r", Seq: seq, Kind: kind, From: from, Body: body, Target: 1, TS: seq * 1000}
	}
	tests := []struct {
		name    string
		entries []protocol.Message
		want    protocol.Message
		changed []bool
	}{
		{"older than V", []protocol.Message{e(5, protocol.KindEdit, "ada", "old")}, base, []bool{false}},
		{"edit", []protocol.Message{e(6, protocol.KindEdit, "ada", "new")},
			protocol.Message{Room: "r", Seq: 1, From: "ada", Body: "new", Edited: 6000, V: 6}, []bool{true}},
		{"edits out of order", []protocol.Message{e(7, protocol.KindEdit, "ada", "second"), e(6, protocol.KindEdit, "ada", "first")},
			protocol.Message{Room: "r", Seq: 1, From: "ada", Body: "second", Edited: 7000, V: 7}, []bool{true, false}},
		{"react and unreact", []protocol.Message{
			e(6, protocol.KindReact, "bob", "👍"), e(7, protocol.KindReact, "cy", "❤️"), e(8, protocol.KindReact, "cy", "👍"),
			e(9, protocol.KindUnreact, "bob", "👍"), e(10, protocol.KindUnreact, "cy", "❤️"), e(10, protocol.KindUnreact, "cy", "❤️"),
		}, protocol.Message{Room: "r", Seq: 1, From: "ada", Body: "hi", V: 10,
			Reactions: []protocol.Reaction{{Emoji: "👍", Users: []string{"cy"}}}}, []bool{true, true, true, true, true, false}},
		{"delete", []protocol.Message{e(6, protocol.KindReact, "bob", "👍"), e(7, protocol.KindDelete, "mod", "")},
			protocol.Message{Room: "r", Seq: 1, From: "ada", Deleted: true, V: 7}, []bool{true, true}},
		{"another message", []protocol.Message{{Room: "r", Seq: 6, Kind: protocol.KindEdit, Target: 2, Body: "x"}}, base, []bool{false}},
		{"another room", []protocol.Message{{Room: "s", Seq: 6, Kind: protocol.KindEdit, Target: 1, Body: "x"}}, base, []bool{false}},
		{"not an entry on a message", []protocol.Message{e(6, protocol.KindKick, "mod", "x"), e(7, "future", "mod", "x"), e(8, "", "bob", "x")}, base, []bool{false, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			var changed []bool
			for _, en := range tc.entries {
				changed = append(changed, client.Apply(&m, en))
			}
			if diff := cmp.Diff(tc.want, m); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.changed, changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
		})
	}
}
