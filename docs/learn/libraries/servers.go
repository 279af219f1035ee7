package main

// The same echo program on five WebSocket implementations: read a message,
// write it back with the same type, with a 64 KiB message limit and any
// Origin accepted. Each uses its library the way its documentation shows,
// and adds nothing the library lacks (no UTF-8 check of its own), so that
// the Autobahn column shows what each library does by itself.

import (
	"context"
	"io"
	"net/http"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gwebsocket "github.com/gorilla/websocket"
	xwebsocket "golang.org/x/net/websocket"

	"github.com/hubbub-chat/hubbub/internal/rfcws"
)

const limit = 64 << 10

// echoes maps a library's short name to its echo handler.
var echoes = map[string]http.Handler{
	"xnet":    xnetEcho(),
	"gorilla": http.HandlerFunc(gorillaEcho),
	"coder":   http.HandlerFunc(coderEcho),
	"gobwas":  http.HandlerFunc(gobwasEcho),
	"rfcws":   http.HandlerFunc(rfcwsEcho),
}

// libraries in table order: the baseline first.
var libraries = []string{"gorilla", "xnet", "coder", "gobwas", "rfcws"}

var libNames = map[string]string{
	"xnet":    "golang.org/x/net/websocket v0.63.0",
	"gorilla": "github.com/gorilla/websocket v1.5.3",
	"coder":   "github.com/coder/websocket v1.8.15",
	"gobwas":  "github.com/gobwas/ws v1.5.0",
	"rfcws":   "hubbub internal/rfcws",
}

// x/net/websocket: a Codec whose Unmarshal also keeps the frame's payload
// type, so that text comes back as text and binary as binary.
type xnetMsg struct {
	data []byte
	typ  byte
}

var xnetCodec = xwebsocket.Codec{
	Marshal: func(v any) ([]byte, byte, error) {
		m := v.(*xnetMsg)
		return m.data, m.typ, nil
	},
	Unmarshal: func(data []byte, typ byte, v any) error {
		m := v.(*xnetMsg)
		m.data, m.typ = data, typ
		return nil
	},
}

func xnetEcho() http.Handler {
	return xwebsocket.Server{
		// The default handshake refuses requests without Origin; accept
		// every origin, as the other echoes do.
		Handshake: func(*xwebsocket.Config, *http.Request) error { return nil },
		Handler: func(c *xwebsocket.Conn) {
			c.MaxPayloadBytes = limit
			for {
				var m xnetMsg
				if err := xnetCodec.Receive(c, &m); err != nil {
					return
				}
				if err := xnetCodec.Send(c, &m); err != nil {
					return
				}
			}
		},
	}
}

var gorillaUpgrader = gwebsocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func gorillaEcho(w http.ResponseWriter, r *http.Request) {
	c, err := gorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(limit)
	for {
		typ, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(typ, data); err != nil {
			return
		}
	}
}

func coderEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(limit)
	ctx := context.Background()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, data); err != nil {
			return
		}
	}
}

func gobwasEcho(w http.ResponseWriter, r *http.Request) {
	conn, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	defer conn.Close()
	// wsutil.ReadClientData with a message limit: the loop of its readData.
	control := wsutil.ControlFrameHandler(conn, ws.StateServerSide)
	rd := wsutil.DefaultReader(conn, ws.StateServerSide)
	rd.MaxMessageSize = limit
	rd.OnIntermediate = control
	for {
		hdr, err := rd.NextFrame()
		if err != nil {
			return
		}
		if hdr.OpCode.IsControl() {
			if err := control(hdr, rd); err != nil {
				return
			}
			continue
		}
		data, err := io.ReadAll(rd)
		if err != nil {
			return
		}
		if err := wsutil.WriteServerMessage(conn, hdr.OpCode, data); err != nil {
			return
		}
	}
}

func rfcwsEcho(w http.ResponseWriter, r *http.Request) {
	c, err := rfcws.Upgrade(w, r, rfcws.Options{MaxMessage: limit, CheckOrigin: func(*http.Request) bool { return true }})
	if err != nil {
		return
	}
	c.Echo(nil)
}
