package tui

import (
	"context"
	"errors"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/term"
)

// Run shows the user interface full-screen on the terminal until the user
// quits or ctx ends; ctx ending is not an error. Unless Options.Bell says
// otherwise, a mention rings the bell by writing BEL to standard output. It does not close the
// client: the caller does, after Run returns.
func Run(ctx context.Context, opts Options) error {
	if opts.Bell == nil {
		// BEL in a write of its own: the renderer writes whole frames, so
		// it never lands inside one of their escape sequences.
		opts.Bell = func() { os.Stdout.Write([]byte("\a")) }
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithAltScreen()}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		// Otherwise bubbletea opens /dev/tty itself.
		popts = append(popts, tea.WithInput(newUTF8Input(os.Stdin)))
	}
	if opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	_, err := tea.NewProgram(New(opts), popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
