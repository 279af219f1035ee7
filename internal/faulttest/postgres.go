package faulttest

import (
	"net/url"
	"os"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/pgtest"
)

// PostgresEnv names the variable with the DSN of the PostgreSQL server
// the suite uses; tests skip when it is unset.
const PostgresEnv = "HUBBUB_TEST_POSTGRES"

// PostgresDSN returns $HUBBUB_TEST_POSTGRES, or skips the test when it is
// unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skip(PostgresEnv + " not set: skipping the fault suite (it needs PostgreSQL)")
	}
	return dsn
}

// FreshSchema creates an empty schema with a random name, so that runs
// never share data, and returns dsn with search_path set to it. The schema
// is dropped at the end of the test.
func FreshSchema(t testing.TB, dsn string) string {
	t.Helper()
	return pgtest.Schema(t, dsn, "hubbub_fault_")
}

// WithHost returns dsn with its host:port replaced by addr: the DSN that
// reaches the same database through a Proxy.
func WithHost(t testing.TB, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}
