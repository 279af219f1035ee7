// Command libraries compares the same WebSocket echo program on
// golang.org/x/net/websocket, gorilla/websocket, coder/websocket,
// gobwas/ws and hubbub's minimal internal/rfcws: Autobahn|Testsuite
// results, echo round trips per second and memory per idle connection.
// It is a module of its own so that hubbub's go.mod gains no dependency.
//
//	go run . -autobahn ../../../../shared/autobahn/run   # the whole table (about 5 minutes)
//	go run . -autobahn ''                                # without Autobahn
//	go run . serve -lib coder                            # one echo server, for your own tests
//
// Each library's echo runs in a process of its own, started from this
// binary, so that its memory can be read from /proc (Linux only). The load
// comes from this process, through gorilla's client, the same for all.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	flag.StringVar(&cfg.autobahn, "autobahn", "", "path of shared/autobahn/run; empty: no conformance column")
	flag.IntVar(&cfg.conns, "conns", 1000, "idle connections opened to measure memory")
	flag.IntVar(&cfg.clients, "clients", 8, "concurrent clients in the round-trip test")
	flag.DurationVar(&cfg.duration, "duration", 3e9, "length of each round-trip test")
	flag.IntVar(&cfg.size, "size", 64, "message size in bytes in the round-trip test")
	flag.IntVar(&cfg.runs, "runs", 3, "repetitions of the speed and memory tests (the median is shown)")
	libs := flag.String("libs", strings.Join(libraries, ","), "implementations to compare, the first is the baseline")
	flag.Parse()
	cfg.libs = strings.Split(*libs, ",")
	for _, l := range cfg.libs {
		if echoes[l] == nil {
			fmt.Fprintf(os.Stderr, "unknown library %q\n", l)
			os.Exit(2)
		}
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// serve runs one library's echo at / and prints "listening on ADDR".
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	lib := fs.String("lib", "gorilla", "implementation: "+strings.Join(slices.Sorted(maps.Keys(echoes)), ", "))
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)
	h := echoes[*lib]
	if h == nil {
		return fmt.Errorf("unknown library %q", *lib)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return http.Serve(ln, h)
}

// server is one echo process started by the driver.
type server struct {
	cmd  *exec.Cmd
	addr string
}

func startServer(lib string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "serve", "-lib", lib)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s server did not start: %q %v", lib, line, err)
	}
	return &server{cmd: cmd, addr: addr}, nil
}

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}
