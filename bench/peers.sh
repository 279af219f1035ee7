#!/bin/sh
# peers.sh DIR — builds what `hubbub-bench compare` runs into DIR (default
# /tmp/hubbub-peers): hubbubd and hubbub-bench from this checkout, the
# gorilla/websocket v1.5.3 chat example from a scratch module, and
# Centrifugo v6.9.1 with `go install`. Nothing is vendored or committed;
# everything comes through the Go module proxy. See docs/benchmarks.md.
set -eu
dir=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/hubbub-peers}
mkdir -p "$out"
out=$(cd "$out" && pwd)

(cd "$dir" && go build -o "$out/hubbubd" ./cmd/hubbubd && go build -o "$out/hubbub-bench" ./cmd/hubbub-bench)

# The chat example is package main inside gorilla/websocket; a scratch
# module that requires v1.5.3 builds it as released.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cat > "$scratch/go.mod" <<'MOD'
module gchat

go 1.26.0

require github.com/gorilla/websocket v1.5.3
MOD
(cd "$scratch" && go mod download github.com/gorilla/websocket && go build -mod=mod -o "$out/gchat" github.com/gorilla/websocket/examples/chat)

GOBIN="$out" go install github.com/centrifugal/centrifugo/v6@v6.9.1

echo "built in $out: hubbubd hubbub-bench gchat centrifugo"
echo "run:   $out/hubbub-bench compare --hubbubd $out/hubbubd --gorilla $out/gchat --centrifugo $out/centrifugo"
