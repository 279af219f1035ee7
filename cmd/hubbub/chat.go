package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/hubbub-chat/hubbub/internal/tui"
)

// chat runs the full-screen user interface.
func (a *app) chat(ctx context.Context, cf commonFlags, join []string, mouse bool) int {
	for i, r := range join {
		room, err := roomArg(r)
		if err != nil {
			fmt.Fprintln(a.stderr, "hubbub: --join:", err)
			return exitUsage
		}
		join[i] = room
	}
	if !isTerminal(a.stdin) || !isTerminal(a.stdout) {
		return a.fail(errors.New("the chat needs a terminal; in scripts use \"hubbub send\" and \"hubbub tail\""))
	}
	c, server, err := a.dial(ctx, cf)
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	err = tui.Run(ctx, tui.Options{
		Client: c,
		Events: c.Events(),
		Server: server,
		Join:   join,
		Mouse:  mouse,
	})
	if err != nil {
		return a.fail(err)
	}
	return exitOK
}

// isTerminal reports whether f is an *os.File open on a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
