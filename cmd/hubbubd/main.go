// Command hubbubd is the hubbub chat server.
//
// With no flags it listens on 127.0.0.1:8080, keeps its data in a SQLite
// file under ./hubbub-data, uses the in-process broker and serves the
// browser client at /. Run `hubbubd -h` for every flag; each flag has an
// environment variable HUBBUB_<FLAG> (upper case, '-' as '_').
//
// Several nodes form one chat when they share a store and a broker:
// --store postgres://… and --broker redis://… or nats://….
//
// `hubbubd user add --admin NAME` creates the first administrator; `hubbubd
// user -h` lists the account commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "user" {
		if err := runUser(ctx, os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			if errors.Is(err, errHelp) {
				return
			}
			fmt.Fprintln(os.Stderr, "hubbubd:", err)
			os.Exit(1)
		}
		return
	}
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:], os.Getenv); err != nil {
		if errors.Is(err, errHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "hubbubd:", err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hubbubd:", err)
		os.Exit(1)
	}
}
