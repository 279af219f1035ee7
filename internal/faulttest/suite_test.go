package faulttest_test

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/faulttest"
)

// The fault suite: issue 12's scenarios on three real hubbubd processes,
// PostgreSQL behind a proxy the test breaks, and a Redis or NATS server of
// the test's own. Each scenario passes only if every acknowledged message
// is in history and reaches every live member, nothing is stored or
// delivered twice, and every member sees strictly increasing seqs per
// room (faulttest.Verify), plus what the scenario itself promises.

var (
	bin      string // the hubbubd binary, built once by TestMain
	crowdBin string // the crowd binary (storm clients), built once by TestMain
	buildErr error
	statOnce sync.Once
)

func TestMain(m *testing.M) {
	flag.Parse()
	var dir string
	if !testing.Short() && os.Getenv(faulttest.PostgresEnv) != "" {
		if dir, buildErr = os.MkdirTemp("", "faulttest-"); buildErr == nil {
			bin, buildErr = faulttest.Build(dir, "github.com/hubbub-chat/hubbub/cmd/hubbubd")
		}
		if buildErr == nil {
			crowdBin, buildErr = faulttest.Build(dir, faulttest.CrowdPackage)
		}
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// statSources stats every Go source file of the module and go.mod and
// go.sum. The suite builds hubbubd in a subprocess, which go test's cache
// does not see; the cache does record the files a test stats, so a change
// anywhere in the module runs the suite again instead of replaying a
// result for a binary that no longer exists. It must run inside m.Run,
// where the testing package logs what a test consults.
func statSources() {
	filepath.WalkDir(filepath.Join("..", ".."), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "node_modules" || name == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if name := d.Name(); strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			os.Stat(path)
		}
		return nil
	})
}

// suite skips a scenario in -short mode and without PostgreSQL, and
// returns the hubbubd binary.
func suite(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the fault suite runs three hubbubd processes and breaks them; skipped with -short")
	}
	faulttest.PostgresDSN(t)
	statOnce.Do(statSources)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// brokers are the cross-node brokers every broker scenario runs on.
var brokers = []string{"redis", "nats"}

// loadArgs lift the per-socket message limits so that a few publishers
// can make the load of many users.
var loadArgs = []string{"--msg-rate", "1000", "--msg-burst", "1000", "--cmd-rate", "2000", "--cmd-burst", "2000"}

// sendTimeout bounds one send: past it, the send is unknown.
const sendTimeout = 30 * time.Second

// runLoad runs ledger.Load for every publisher at rate each until ctx ends
// and returns a channel closed when every send has an outcome.
func runLoad(ctx context.Context, l *faulttest.Ledger, pubs []*faulttest.Member, room string, rate float64) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range pubs {
		wg.Go(func() { l.Load(ctx, p, room, rate, sendTimeout) })
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// sleepUntil sleeps until at.
func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

// connectAll connects members named prefix0, prefix1, … through the
// given URLs (member i uses urls[i%len(urls)]) into room.
func connectAll(t *testing.T, prefix string, n int, urls []string, room string) []*faulttest.Member {
	t.Helper()
	var out []*faulttest.Member
	for i := range n {
		out = append(out, faulttest.Connect(t, urls[i%len(urls)], fmt.Sprint(prefix, i), room))
	}
	return out
}

// owedBy waits until deadline for every acked send of room that was
// acknowledged before cutoff to reach every member, and returns how many
// (send, member) pairs are still missing.
func owedBy(deadline, cutoff time.Time, l *faulttest.Ledger, members []*faulttest.Member, room string) (missing int) {
	for {
		missing = 0
		for _, s := range l.Sends() {
			if s.Room != room || s.Outcome != faulttest.Acked || !s.End.Before(cutoff) {
				continue
			}
			for _, m := range members {
				if !m.Has(room, s.Body) {
					missing++
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}
