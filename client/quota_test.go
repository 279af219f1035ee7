package client_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// signUp creates the account name on the server whose WebSocket URL is
// wsURL, over its account API, and returns a bearer token for it.
func signUp(t *testing.T, wsURL, name string) string {
	t.Helper()
	base := "http" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws"), "/ws")
	body, _ := json.Marshal(map[string]any{"username": name, "password": servertest.Password, "bearer": true})
	resp, err := http.Post(base+"/api/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || reply.Token == "" {
		t.Fatalf("register %s: status %s, %v", name, resp.Status, err)
	}
	return reply.Token
}

// TestUploadQuotaConcurrent: uploads of one account started at once, on
// several connections (of one node, and of two nodes that share a
// PostgreSQL store), never pass its day's quota together. Of 12 uploads of
// 1000 bytes under a quota of 7500, exactly 7 are taken and 5 refused with
// limit_reached.
func TestUploadQuotaConcurrent(t *testing.T) {
	limits := func(cfg *server.Config) {
		cfg.UploadQuota = 7500
		cfg.UploadBurst, cfg.UploadRate = 100, 100 // the rate is not under test
		cfg.ReadLimit = testChunk + protocol.MaxChunkHeaderBytes
	}
	tests := []struct {
		name  string
		nodes func(t *testing.T) []string // the WebSocket URLs of the nodes
	}{
		{"sqlite", func(t *testing.T) []string {
			return []string{servertest.Start(t, limits).WSURL}
		}},
		{"postgres, two nodes", func(t *testing.T) []string {
			dsn := pgSchema(t)
			broker := membroker.New()
			t.Cleanup(func() { broker.Close() })
			return []string{startPGNode(t, dsn, broker, limits), startPGNode(t, dsn, broker, limits)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := tt.nodes(t)
			ctx := filesCtx(t)
			token := signUp(t, nodes[0], "ada")
			const conns, each = 6, 2 // 2 uploads on each connection: under UploadsPerConn
			var wg sync.WaitGroup
			var mu sync.Mutex
			results := make(map[string]int)
			var others []error
			start := make(chan struct{}) // every upload at once, once all are connected
			for i := range conns {
				c, err := client.Dial(ctx, nodes[i%len(nodes)], client.Options{Token: token})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				for range each {
					wg.Go(func() {
						data := randomBytes(1000)
						<-start
						_, err := c.Upload(ctx, "part.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{})
						mu.Lock()
						defer mu.Unlock()
						switch code := protocol.CodeOf(err); {
						case err == nil:
							results["taken"]++
						case code == protocol.CodeLimitReached:
							results[string(code)]++
						default:
							others = append(others, err)
						}
					})
				}
			}
			close(start)
			wg.Wait()
			for _, err := range others {
				t.Errorf("Upload: %v", err)
			}
			want := map[string]int{"taken": 7, string(protocol.CodeLimitReached): 5}
			if diff := cmp.Diff(want, results); diff != "" {
				t.Errorf("uploads taken and refused (-want +got):\n%s", diff)
			}
		})
	}
}
