package pgstore

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// schemaAt makes a new schema as a binary of version v left it (the first
// v migrations applied and recorded), for the tests of a migration, and
// returns its DSN, a connection to it, and exec, which runs a statement on
// the connection or fails the test. The caller closes conn before opening
// a Store on dsn.
func schemaAt(t *testing.T, v int) (dsn string, conn *pgx.Conn, exec func(q string, args ...any)) {
	t.Helper()
	ctx := t.Context()
	dsn = newSchema(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			conn.Close(ctx)
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_version (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	for i, m := range migrations[:v] {
		exec(m)
		exec(`INSERT INTO schema_version (version) VALUES ($1)`, i+1)
	}
	return dsn, conn, exec
}
