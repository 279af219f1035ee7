package pgstore

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/pgtest"
	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dsnEnv names the environment variable that holds the DSN of the
// PostgreSQL database the tests use. Each test works in a schema of its own
// there, which it drops at the end.
const dsnEnv = "HUBBUB_TEST_POSTGRES"

// testDSN returns the DSN of the test database, or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " not set: skipping PostgreSQL tests")
	}
	return dsn
}

// newSchema creates an empty schema with a random name in the test
// database, drops it when the test ends, and returns a DSN whose connections
// work in it.
func newSchema(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t, testDSN(t), "hubbub_test_")
}

// withParam returns dsn with the run-time parameter name set to value; pgx
// sends parameters it does not know itself to the server.
func withParam(t testing.TB, dsn, name, value string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsnEnv, err)
		}
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	// Keyword/value form; value is a plain identifier.
	return dsn + " " + name + "=" + value
}

// factory gives each test a schema of its own.
func factory(t *testing.T) func() chat.Store {
	dsn := newSchema(t)
	return func() chat.Store { return open(t, dsn) }
}

// open opens a Store on dsn; the caller closes it.
func open(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openTemp opens a Store on a fresh schema and closes it when the test ends.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dsn := newSchema(t)
	s := open(t, dsn)
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, factory)
}

func TestAccounts(t *testing.T) {
	testDSN(t)
	storetest.RunAccounts(t, factory)
}

func TestAccess(t *testing.T) {
	testDSN(t)
	storetest.RunAccess(t, factory)
}

func TestEntries(t *testing.T) {
	testDSN(t)
	storetest.RunEntries(t, factory)
}

func TestFiles(t *testing.T) {
	testDSN(t)
	storetest.RunFiles(t, factory)
}

func TestGuestNames(t *testing.T) {
	testDSN(t)
	storetest.RunGuestNames(t, factory)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
