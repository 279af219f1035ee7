package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// The README's reverse-proxy configurations (docs/proxy/), run against
// real proxy processes: HUBBUB_TEST_NGINX and HUBBUB_TEST_CADDY name the
// binaries (Debian: apt-get install nginx caddy); each test skips when its
// variable is unset.

// proxyConfig reads a configuration of docs/proxy and checks that the
// README shows it as it is.
func proxyConfig(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "proxy", name))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, b) {
		t.Errorf("README.md does not show docs/proxy/%s as it is", name)
	}
	return string(b)
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// replaceAll applies old→new pairs, failing if an old is missing (the
// configuration changed under the test).
func replaceAll(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("configuration has no %q", pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

// runProxy starts a proxy process and waits until port accepts.
func runProxy(t *testing.T, port int, name string, args []string, env ...string) {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	for range 200 {
		c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s does not listen on %d:\n%s", name, port, out.String())
}

func TestBehindNginx(t *testing.T) {
	bin := os.Getenv("HUBBUB_TEST_NGINX")
	if bin == "" {
		t.Skip("HUBBUB_TEST_NGINX not set")
	}
	conf := proxyConfig(t, "nginx.conf")
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	port := freePort(t)
	public := fmt.Sprint("https://127.0.0.1:", port)
	backend := startMain(t, "--public-url", public, "--trusted-proxy", "127.0.0.1")
	conf = replaceAll(t, conf,
		"listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d ssl;", port),
		"/etc/ssl/certs/chat.example.com.pem", certFile,
		"/etc/ssl/private/chat.example.com.key", keyFile,
		"http://127.0.0.1:8080", "http://"+backend)
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr warn;
events {}
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, conf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	runProxy(t, port, bin, []string{"-p", dir, "-c", path, "-e", "stderr"})
	checkBehindProxy(t, public, pool)
}

func TestBehindCaddy(t *testing.T) {
	bin := os.Getenv("HUBBUB_TEST_CADDY")
	if bin == "" {
		t.Skip("HUBBUB_TEST_CADDY not set")
	}
	conf := proxyConfig(t, "Caddyfile")
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	port := freePort(t)
	public := fmt.Sprint("https://127.0.0.1:", port)
	backend := startMain(t, "--public-url", public, "--trusted-proxy", "127.0.0.1")
	// The test's certificate stands in for the one Caddy would obtain.
	conf = replaceAll(t, conf,
		"chat.example.com {", fmt.Sprintf("%s {\n\ttls %s %s", public, certFile, keyFile),
		"127.0.0.1:8080", backend)
	conf = fmt.Sprintf("{\n\tadmin off\n\tstorage file_system %s/caddy\n\tskip_install_trust\n}\n\n%s", dir, conf)
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	runProxy(t, port, bin, []string{"run", "--config", path, "--adapter", "caddyfile"},
		"HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	checkBehindProxy(t, public, pool)
}

// checkBehindProxy is what a user behind the proxy at public needs: the
// page with HSTS, a Secure session cookie, the WebSocket from the page's
// origin (and not from another), and per-address limits that see the
// client's address through X-Forwarded-For: a guest banned at 127.0.0.2
// does not ban a guest at 127.0.0.3.
func checkBehindProxy(t *testing.T, public string, pool *x509.CertPool) {
	t.Helper()
	tlsConf := &tls.Config{RootCAs: pool}
	from := func(ip string) *net.Dialer {
		return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, DialContext: from("127.0.0.4").DialContext}}

	resp, err := hc.Get(public + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /: %d, HSTS %q; want 200 with HSTS", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}

	body, _ := json.Marshal(map[string]any{"username": "olga", "password": "correct horse", "bearer": true})
	req, _ := http.NewRequest(http.MethodPost, public+"/api/register", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", public)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || reg.Token == "" {
		t.Fatalf("register through the proxy: %d", resp.StatusCode)
	}

	wsURL := "wss" + strings.TrimPrefix(public, "https") + "/ws"
	dial := func(ip, origin string, hdr http.Header) (*websocket.Conn, int) {
		jar, _ := cookiejar.New(nil)
		d := websocket.Dialer{TLSClientConfig: tlsConf, NetDialContext: from(ip).DialContext, Jar: jar,
			Subprotocols: []string{protocol.Subprotocol}}
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set("Origin", origin)
		ws, resp, err := d.Dial(wsURL, hdr)
		if resp == nil {
			t.Fatalf("dial through the proxy: %v", err)
		}
		if ws != nil {
			t.Cleanup(func() { ws.Close() })
		}
		return ws, resp.StatusCode
	}
	if _, code := dial("127.0.0.4", "https://evil.example", nil); code != http.StatusForbidden {
		t.Errorf("foreign origin through the proxy: %d, want 403", code)
	}
	call := func(ws *websocket.Conn, cmd string) protocol.Event {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
		for {
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(data), "\n") {
				ev, err := protocol.DecodeEvent([]byte(line))
				if err == nil && ev.ID == "x" {
					return ev
				}
			}
		}
	}
	owner, code := dial("127.0.0.4", public, http.Header{"Authorization": {"Bearer " + reg.Token}})
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("wss through the proxy from the public origin: %d, want 101", code)
	}
	call(owner, `{"id":"x","op":"hello"}`)
	if ev := call(owner, `{"id":"x","op":"create","room":"pub"}`); ev.Type != protocol.TypeOK {
		t.Fatalf("create: %+v", ev)
	}
	spammer, _ := dial("127.0.0.2", public, nil)
	call(spammer, `{"id":"x","op":"hello","name":"spammer"}`)
	if ev := call(spammer, `{"id":"x","op":"join","room":"pub"}`); ev.Type != protocol.TypeOK {
		t.Fatalf("join: %+v", ev)
	}
	if ev := call(owner, `{"id":"x","op":"ban","room":"pub","user":"spammer"}`); ev.Type != protocol.TypeOK {
		t.Fatalf("ban: %+v", ev)
	}
	again, _ := dial("127.0.0.2", public, nil) // new cookie, same address
	call(again, `{"id":"x","op":"hello","name":"newname"}`)
	if ev := call(again, `{"id":"x","op":"join","room":"pub"}`); ev.Code != protocol.CodeBanned {
		t.Errorf("banned guest's address, new identity: %s, want banned", ev.Code)
	}
	other, _ := dial("127.0.0.3", public, nil)
	call(other, `{"id":"x","op":"hello","name":"bystander"}`)
	if ev := call(other, `{"id":"x","op":"join","room":"pub"}`); ev.Type != protocol.TypeOK {
		t.Errorf("a guest at another address behind the same proxy: %s %s, want ok", ev.Code, ev.Reason)
	}
}
