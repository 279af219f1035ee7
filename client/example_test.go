package client_test

import (
	"bytes"
	"context"
	"errors"
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
	srv, err := server.New(server.Config{
		Store: store, Broker: broker, Files: store, Access: store,
		Logger: slog.New(slog.DiscardHandler),
	})
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

// Keeping a message's cmid for a retry: Send's error is a *SendError that
// carries it, and SendWithID with the same cmid stores the message at most
// once, however often it is sent. Here the first Send gives up at once
// (its ctx has ended already), after the command may have gone out.
func ExampleClient_SendWithID() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, err := client.Dial(ctx, url, client.Options{Name: "outbox"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	go func() {
		for range c.Events() {
		}
	}()
	if _, _, err := c.Join(ctx, "lobby"); err != nil {
		log.Fatal(err)
	}

	gone, cancel := context.WithCancel(ctx)
	cancel()
	m, err := c.Send(gone, "lobby", "stored once")
	var se *client.SendError
	if errors.As(err, &se) && errors.Is(err, context.Canceled) {
		// Stored or not, nobody can tell yet: send the same cmid again.
		m, err = c.SendWithID(ctx, "lobby", se.CMID, "stored once")
	}
	if err != nil {
		log.Fatal(err)
	}
	page, _, err := c.HistoryAfter(ctx, "lobby", 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("#%d %s; the room holds %d message(s)\n", m.Seq, m.Body, len(page))
	// Output:
	// #1 stored once; the room holds 1 message(s)
}

// Sending a file: Upload stores its bytes, SendFile sends a message that
// carries it, and a member of the room downloads it over HTTP.
func ExampleClient_Upload() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	var clients []*client.Client
	for _, name := range []string{"ada", "grace"} {
		c, err := client.Dial(ctx, url, client.Options{Name: name})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		go func() {
			for range c.Events() {
			}
		}()
		if _, _, err := c.Join(ctx, "lobby"); err != nil {
			log.Fatal(err)
		}
		clients = append(clients, c)
	}
	ada, grace := clients[0], clients[1]

	data := []byte("the minutes of the meeting\n")
	file, err := ada.Upload(ctx, "minutes.txt", bytes.NewReader(data), int64(len(data)), client.UploadOptions{})
	if err != nil {
		log.Fatal(err) // a *client.UploadError; protocol.CodeOf reads the server's code
	}
	m, err := ada.SendFile(ctx, "lobby", file.ID, "the minutes")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("#%d %s: %s [%s, %d bytes]\n", m.Seq, m.From, m.Body, m.File.Name, m.File.Size)

	var buf bytes.Buffer
	if _, err := grace.Download(ctx, *m.File, &buf); err != nil {
		log.Fatal(err)
	}
	fmt.Print(buf.String())
	// Output:
	// #1 ada: the minutes [minutes.txt, 27 bytes]
	// the minutes of the meeting
}
