package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hubbub test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS runs hubbubd in-process with --tls-cert/--tls-key and speaks
// wss to it.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	addr := startMain(t, "--tls-cert", certFile, "--tls-key", keyFile)
	d := websocket.Dialer{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		Subprotocols:    []string{protocol.Subprotocol},
	}
	ws, _, err := d.Dial("wss://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial wss: %v", err)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"id":"1","op":"hello","name":"tls"}`))
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := protocol.DecodeEvent(data)
	if err != nil || ev.Type != protocol.TypeOK || ev.Self == nil || ev.Self.Name != "tls" {
		t.Errorf("hello over wss: %s (%v)", data, err)
	}
	// A plain-text WebSocket dial to the TLS port fails.
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil); err == nil {
		t.Errorf("plain ws to the TLS port succeeded")
	}
	ws.Close()
}
