package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshDatabase makes the database name on the PostgreSQL server that the
// URL admin connects to, for one run of hubbubd with --store, and returns
// the new database's URL (admin's, with the database replaced) and a
// function that drops it. A database of that name left by a run that was
// killed is dropped first. After the database is made, a CHECKPOINT writes
// out what earlier runs left dirty, so that PostgreSQL's own checkpoint of
// it does not land inside this run; a role not allowed to run CHECKPOINT
// gets a line on log and the run goes on without it. drop reports its
// failures on log too: a benchmark's leftovers are not worth stopping for.
func freshDatabase(ctx context.Context, admin, name string, log io.Writer) (store string, drop func(), err error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", nil, fmt.Errorf("--postgres: drop the old %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("--postgres: create %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		fmt.Fprintf(log, "hubbub-bench compare: CHECKPOINT before the run: %v (going on without it)\n", err)
	}
	u.Path = "/" + name
	drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			fmt.Fprintf(log, "hubbub-bench compare: drop database %s: %v\n", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(log, "hubbub-bench compare: drop database %s: %v\n", name, err)
		}
	}
	return u.String(), drop, nil
}
