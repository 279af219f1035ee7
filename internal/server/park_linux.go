package server

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// limitUnsent sets TCP_NOTSENT_LOWAT on the socket: once n bytes wait in
// the kernel unsent (the peer's receive window is closed), writes wait,
// or, written through, do not happen (conn.writeThroughLocked), and the
// backlog builds up in the send queue, where its size and age close a
// slow consumer. Without it the kernel grows a socket's buffer to
// megabytes (net.ipv4.tcp_wmem), a stalled reader's backlog hides there,
// and it is found only when that is full. It does nothing if the
// option cannot be set.
func limitUnsent(raw syscall.RawConn, n int) {
	raw.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n)
	})
}

// epoller is the poller of parked connections on Linux: one epoll
// instance of its own, besides the Go runtime's, and one goroutine that
// waits on it. A parked connection's socket is in the set with
// EPOLLONESHOT: it reports readiness once, and arm re-arms it when the
// connection parks again. It is level-triggered, so bytes that arrived
// between the last read and the arm are reported at once.
//
// A socket is registered by its descriptor, but the event names the
// connection by its id, looked up in conns: a descriptor number can be
// reused by another socket once closed, an id never is. Closing a socket
// removes it from the set (the kernel does, when the descriptor is
// closed), so nothing needs undoing but the map entry (forget).
type epoller struct {
	log *slog.Logger

	once sync.Once
	epfd int // -1 until started, or when epoll_create failed
	wake [2]int
	done chan struct{} // closed when the loop has returned

	mu     sync.Mutex
	conns  map[uint64]*conn // by id: the connections in the set
	closed bool
}

func newPoller(log *slog.Logger) parker {
	return &epoller{log: log, epfd: -1, conns: make(map[uint64]*conn)}
}

// start creates the epoll instance and its goroutine, on the first arm.
func (p *epoller) start() {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		p.log.Warn("epoll unavailable; idle connections keep their goroutine", "err", err)
		return
	}
	if err := syscall.Pipe2(p.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		p.log.Warn("epoll unavailable; idle connections keep their goroutine", "err", err)
		return
	}
	// id 0 is no connection's (ids start at 1): the close doorbell.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(p.wake[0])
		syscall.Close(p.wake[1])
		p.log.Warn("epoll unavailable; idle connections keep their goroutine", "err", err)
		return
	}
	p.epfd = epfd
	p.done = make(chan struct{})
	go p.loop()
}

func (p *epoller) arm(c *conn) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.once.Do(p.start)
	if p.epfd < 0 {
		p.mu.Unlock()
		return false
	}
	_, known := p.conns[c.id]
	p.conns[c.id] = c
	p.mu.Unlock()

	op := syscall.EPOLL_CTL_MOD
	if !known {
		op = syscall.EPOLL_CTL_ADD
	}
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(uint32(c.id)),
		Pad:    int32(uint32(c.id >> 32)),
	}
	var err error
	// Control holds the descriptor open for the call: it cannot be closed
	// and reused by another socket under it.
	cerr := c.raw.Control(func(fd uintptr) {
		err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	return cerr == nil && err == nil
}

func (p *epoller) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}

// close stops the loop and closes the epoll instance. Connections still
// parked stay so until their sockets are closed (end wakes them).
func (p *epoller) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	started := p.epfd >= 0
	p.mu.Unlock()
	if !started {
		return
	}
	syscall.Write(p.wake[1], []byte{0})
	<-p.done
	syscall.Close(p.epfd)
	syscall.Close(p.wake[0])
	syscall.Close(p.wake[1])
}

func (p *epoller) loop() {
	defer close(p.done)
	events := make([]syscall.EpollEvent, 128)
	woken := make([]*conn, 0, len(events))
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			p.log.Error("epoll_wait failed; parked connections are woken only by the pinger", "err", err)
			return
		}
		woken = woken[:0]
		p.mu.Lock()
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				p.mu.Unlock()
				return // close
			}
			if c := p.conns[id]; c != nil {
				woken = append(woken, c)
			}
		}
		p.mu.Unlock()
		for _, c := range woken {
			c.wakeReader()
		}
	}
}
