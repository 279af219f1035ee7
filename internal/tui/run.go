package tui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the user interface full-screen on the terminal until the user
// quits or ctx ends; ctx ending is not an error. It does not close the
// client: the caller does, after Run returns.
func Run(ctx context.Context, opts Options) error {
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithAltScreen()}
	if opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	_, err := tea.NewProgram(New(opts), popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
