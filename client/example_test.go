package client_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// exampleServer starts an in-process hubbub server and returns its
// WebSocket URL and a function that stops it.
func exampleServer() (wsURL string, stop func()) {
	dir, err := os.MkdirTemp("", "hubbub-example")
	if err != nil {
		log.Fatal(err)
	}
	store, err := sqlitestore.Open(filepath.Join(dir, "hubbub.db"))
	if err != nil {
		log.Fatal(err)
	}
	broker := membroker.New()
	srv, err := server.New(server.Config{Store: store, Broker: broker, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", func() {
		srv.Shutdown(context.Background())
		ts.Close()
		broker.Close()
		store.Close()
		os.RemoveAll(dir)
	}
}

// A bot that answers "!ping" with "pong", and a user who tries it.
func Example() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	bot, err := client.Dial(ctx, url, client.Options{Name: "bot"})
	if err != nil {
		log.Fatal(err)
	}
	defer bot.Close()
	if _, _, err := bot.Join(ctx, "lobby"); err != nil {
		log.Fatal(err)
	}
	go func() {
		for ev := range bot.Events() { // ends when bot is closed
			m, ok := ev.(client.MessageEvent)
			if !ok || m.Message.Body != "!ping" {
				continue
			}
			// Replies arrive through the loop that fills Events: bound
			// the wait, so a flood of events cannot stall the bot for long.
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := bot.Send(ctx, m.Message.Room, "pong"); err != nil {
				log.Print(err)
			}
			cancel()
		}
	}()

	alice, err := client.Dial(ctx, url, client.Options{Name: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	if _, _, err := alice.Join(ctx, "lobby"); err != nil {
		log.Fatal(err)
	}
	if _, err := alice.Send(ctx, "lobby", "!ping"); err != nil {
		log.Fatal(err)
	}
	for ev := range alice.Events() {
		if m, ok := ev.(client.MessageEvent); ok {
			fmt.Printf("#%d %s: %s\n", m.Message.Seq, m.Message.From, m.Message.Body)
			if m.Message.Body == "pong" {
				break
			}
		}
	}
	// Output:
	// #1 alice: !ping
	// #2 bot: pong
}

// Errors from the server are *protocol.Error values: read their code with
// protocol.CodeOf.
func ExampleClient_Join() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, err := client.Dial(ctx, url, client.Options{Name: "erin"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	go func() {
		for range c.Events() {
		}
	}()

	info, members, err := c.Join(ctx, "lobby")
	fmt.Println(info.Name, members, err)
	_, _, err = c.Join(ctx, "nowhere")
	fmt.Println(protocol.CodeOf(err))
	_, err = c.Send(ctx, "nowhere", "hello?")
	fmt.Println(protocol.CodeOf(err))
	// Output:
	// lobby [erin] <nil>
	// no_such_room
	// not_joined
}

// Following the connection's state beside the room events.
func ExampleClient_Events() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "wss://chat.example.com", client.Options{
		Name:        "watcher",
		BackoffBase: time.Second,
		BackoffMax:  time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Join(ctx, "lobby"); err != nil {
		log.Fatal(err)
	}
	for ev := range c.Events() {
		switch ev := ev.(type) {
		case client.MessageEvent:
			fmt.Printf("[%s #%d] %s: %s\n", ev.Message.Room, ev.Message.Seq, ev.Message.From, ev.Message.Body)
		case client.JoinEvent:
			fmt.Printf("[%s] %s joined\n", ev.Room, ev.User)
		case client.StateEvent:
			switch ev.State {
			case client.Reconnecting:
				fmt.Printf("connection lost (%v); retry %d in %v\n", ev.Err, ev.Attempt, time.Until(ev.Next).Round(time.Second))
			case client.Connected:
				fmt.Println("connected as", ev.Self.Name)
			}
		case client.ErrorEvent:
			fmt.Println("error:", ev.Err)
		}
	}
}
