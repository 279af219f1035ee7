module github.com/hubbub-chat/hubbub/docs/learn/libraries

go 1.26.0

replace github.com/hubbub-chat/hubbub => ../../..

require (
	github.com/coder/websocket v1.8.15
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
	github.com/hubbub-chat/hubbub v0.0.0-00010101000000-000000000000
	golang.org/x/net v0.63.0
)

require github.com/gobwas/httphead v0.1.0 // indirect
