package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/hubbub-chat/hubbub/internal/auth"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

const userUsage = `Usage: hubbubd user [--data DIR | --store URL] COMMAND [NAME]

Manage accounts in the server's store: the SQLite database under --data
(HUBBUB_DATA), or the PostgreSQL database of --store (HUBBUB_STORE), as the
server is given them. The server may be running.

Commands:
  list                 list the accounts: name, role, state, when created
  add [--admin] NAME   create an account; the password is read from the
                       terminal (twice) or from the first line of stdin
  passwd NAME          set a new password and end every session of NAME
  disable NAME         forbid logging in and end every session of NAME
  enable NAME          allow logging in again
  admin NAME           make NAME a server administrator
  unadmin NAME         make NAME an ordinary user
  delete [--yes] NAME  delete the account NAME for good: its sessions end,
                       it leaves every room, its messages stay under its
                       name, which nobody can take again; asks on a
                       terminal unless --yes

Create the first administrator with: hubbubd user add --admin NAME
`

// runUser is `hubbubd user ...`. It writes to stdout and stderr and reads
// passwords from stdin.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hubbubd user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, userUsage) }
	data := fs.String("data", "hubbub-data", "directory of the SQLite database")
	storeURL := fs.String("store", "", "shared store `URL` (postgres://…); empty: SQLite under --data")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	for name, env := range map[string]string{"data": "HUBBUB_DATA", "store": "HUBBUB_STORE"} {
		if v := getenv(env); v != "" && !isFlagSet(fs, name) {
			fs.Set(name, v)
		}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("user: missing command")
	}
	cmd, rest := rest[0], rest[1:]
	// An unknown command is said so before its NAME is checked.
	switch cmd {
	case "list", "add", "passwd", "disable", "enable", "admin", "unadmin", "delete":
	default:
		fs.Usage()
		return fmt.Errorf("user: unknown command %q", cmd)
	}
	if cmd == "list" {
		if len(rest) != 0 {
			fs.Usage()
			return errors.New("user list: takes no NAME")
		}
		store, err := openUserStore(ctx, *storeURL, *data)
		if err != nil {
			return err
		}
		defer store.Close()
		return listUsers(ctx, store, stdout)
	}
	admin := false
	if cmd == "add" && len(rest) > 0 && (rest[0] == "--admin" || rest[0] == "-admin") {
		admin, rest = true, rest[1:]
	}
	yes := false
	if cmd == "delete" {
		rest = slices.DeleteFunc(rest, func(a string) bool {
			is := a == "--yes" || a == "-yes" || a == "-y"
			yes = yes || is
			return is
		})
	}
	if len(rest) != 1 {
		fs.Usage()
		return fmt.Errorf("user %s: want exactly one NAME", cmd)
	}
	name := strings.ToLower(rest[0])
	if err := protocol.CheckUsername(name); err != nil {
		return fmt.Errorf("user %s: %s", cmd, err.(*protocol.Error).Reason)
	}

	store, err := openUserStore(ctx, *storeURL, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	hasher := auth.NewHasher(1)

	update := func(change func(u *chat.User)) error {
		u, err := store.User(ctx, name)
		if errors.Is(err, chat.ErrNoSuchUser) {
			return fmt.Errorf("no user %s", name)
		}
		if err != nil {
			return err
		}
		change(&u)
		return store.UpdateUser(ctx, u)
	}
	endSessions := func() error {
		ended, err := store.DeleteUserSessions(ctx, name, "")
		if err == nil && len(ended) > 0 {
			fmt.Fprintf(stdout, "ended %d session(s) of %s; their sockets close within seconds\n", len(ended), name)
		}
		return err
	}

	switch cmd {
	case "add":
		// Say the name is taken before asking for a password twice.
		if _, err := store.User(ctx, name); err == nil {
			return fmt.Errorf("user %s exists", name)
		} else if !errors.Is(err, chat.ErrNoSuchUser) {
			return err
		}
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		hash, err := hasher.HashPassword(ctx, pw)
		if err != nil {
			return err
		}
		err = store.CreateUser(ctx, chat.User{Name: name, PasswordHash: hash, Admin: admin, CreatedAt: time.Now()})
		if errors.Is(err, chat.ErrUserExists) {
			return fmt.Errorf("user %s exists", name)
		}
		if err != nil {
			return err
		}
		role := "user"
		if admin {
			role = "administrator"
		}
		fmt.Fprintf(stdout, "created %s %s\n", role, name)
	case "passwd":
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		hash, err := hasher.HashPassword(ctx, pw)
		if err != nil {
			return err
		}
		if err := update(func(u *chat.User) { u.PasswordHash = hash }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed\n", name)
		return endSessions()
	case "disable", "enable":
		if err := update(func(u *chat.User) { u.Disabled = cmd == "disable" }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd %s\n", cmd, name)
		if cmd == "disable" {
			return endSessions()
		}
	case "delete":
		return deleteUser(ctx, store, name, yes, stdin, stdout, stderr)
	case "admin", "unadmin":
		if err := update(func(u *chat.User) { u.Admin = cmd == "admin" }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", name, map[bool]string{true: "an administrator", false: "an ordinary user"}[cmd == "admin"])
	default:
		fs.Usage()
		return fmt.Errorf("user: unknown command %q", cmd)
	}
	return nil
}

// deleteUser is hubbubd user delete: it asks for the name again on a
// terminal (a script passes yes), deletes the account and says what
// changed. The server's sockets of the account close at its next session
// check; the new owner of a room it owned is not announced in the room
// (no server is involved), and sees its role at its next join.
func deleteUser(ctx context.Context, store userStore, name string, yes bool, stdin io.Reader, stdout, stderr io.Writer) error {
	if _, err := store.User(ctx, name); errors.Is(err, chat.ErrNoSuchUser) {
		return fmt.Errorf("no user %s", name)
	} else if err != nil {
		return err
	}
	if !yes {
		f, ok := stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return errors.New("user delete: stdin is not a terminal; confirm with --yes")
		}
		fmt.Fprintf(stderr, "Delete the account %s for good? Its sessions end and it leaves every room;\n"+
			"its messages stay, under its name, which nobody can take again.\nType the name to confirm: ", name)
		line, _ := bufio.NewReader(f).ReadString('\n')
		if strings.TrimSpace(line) != name {
			return errors.New("user delete: not confirmed; nothing deleted")
		}
	}
	d, err := store.DeleteUser(ctx, name)
	if errors.Is(err, chat.ErrNoSuchUser) {
		return fmt.Errorf("no user %s", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted %s: left %d room(s)", name, len(d.Rooms))
	if len(d.Sessions) > 0 {
		fmt.Fprintf(stdout, ", ended %d session(s); their sockets close within seconds", len(d.Sessions))
	}
	fmt.Fprintln(stdout)
	for _, h := range d.Owners {
		fmt.Fprintf(stdout, "%s now owns %s\n", h.Owner, h.Room)
	}
	return nil
}

// userStore is what hubbubd user needs of a store: the accounts, and the
// list of them that only the command line asks for.
type userStore interface {
	chat.Accounts
	Users(ctx context.Context) ([]chat.User, error)
	Close() error
}

// openUserStore opens the store the server would open with --store spec
// and --data dataDir (see openStore).
func openUserStore(ctx context.Context, spec, dataDir string) (userStore, error) {
	s, _, err := openStore(ctx, spec, dataDir)
	if err != nil {
		return nil, err
	}
	us, ok := s.(userStore)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("user: the store %T cannot list accounts", s)
	}
	return us, nil
}

// listUsers prints the accounts of store, one a line, in aligned columns:
// name, role, state and creation date (UTC).
func listUsers(ctx context.Context, store userStore, stdout io.Writer) error {
	users, err := store.Users(ctx)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		fmt.Fprintln(stdout, "no accounts yet; create the first administrator with: hubbubd user add --admin NAME")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED")
	for _, u := range users {
		role, state := "user", "active"
		if u.Admin {
			role = "administrator"
		}
		if u.Disabled {
			state = "disabled"
		}
		if u.Deleted {
			role, state = "user", "deleted"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, role, state, u.CreatedAt.UTC().Format(time.DateOnly))
	}
	return tw.Flush()
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// readPassword reads a new password: from the terminal without echo, typed
// twice, or else from the first line of stdin (for scripts).
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	var pw string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(again) != string(b) {
			return "", errors.New("the passwords differ")
		}
		pw = string(b)
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", errors.New("reading the password from stdin: no line")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := protocol.CheckPassword(pw); err != nil {
		return "", errors.New(err.(*protocol.Error).Reason)
	}
	return pw, nil
}
