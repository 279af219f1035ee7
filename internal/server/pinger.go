package server

import (
	"sync"
	"time"
)

// pingSlots is how many slots the pinger spreads connections over: it
// wakes pingSlots times per PingInterval and pings one slot's
// connections, so that pings are spread out rather than all at once.
const pingSlots = 16

// pinger pings every connection once per PingInterval from one timer per
// server, instead of a ticker (and a goroutine waiting on it) per
// connection. A ping is only asked for: the connection's write loop sends
// it, like every other write.
//
// A connection goes into the slot the timer visited last, so its first
// ping comes one full round later: between PingInterval−PingInterval/
// pingSlots and PingInterval after it connected, and then every
// PingInterval. The timer runs only while there are connections.
type pinger struct {
	tick time.Duration // PingInterval / pingSlots; immutable

	mu    sync.Mutex // guards the fields below
	slots [pingSlots]map[*conn]struct{}
	n     int         // connections in all slots
	next  int         // the slot the timer visits next
	timer *time.Timer // nil when there are no connections
	gen   int         // counts timers, so that a stopped one's late run does nothing
}

func newPinger(interval time.Duration) *pinger {
	return &pinger{tick: max(interval/pingSlots, time.Millisecond)}
}

// add starts pinging c.
func (p *pinger) add(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer == nil {
		p.gen++
		gen := p.gen
		p.next = 1
		p.timer = time.AfterFunc(p.tick, func() { p.visit(gen) })
	}
	i := (p.next + pingSlots - 1) % pingSlots
	if p.slots[i] == nil {
		p.slots[i] = make(map[*conn]struct{})
	}
	p.slots[i][c] = struct{}{}
	c.pingSlot = i
	p.n++
}

// remove stops pinging c, and stops the timer after the last connection.
func (p *pinger) remove(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.slots[c.pingSlot][c]; !ok {
		return
	}
	delete(p.slots[c.pingSlot], c)
	p.n--
	if p.n == 0 {
		p.timer.Stop()
		p.timer = nil
		p.slots = [pingSlots]map[*conn]struct{}{} // let the maps' memory go
	}
}

// visit pings the connections of the next slot, wakes every parked
// connection that has been silent too long (a parked connection has no
// read deadline running: this is its deadline, checked every tick), and
// arms the timer for the next slot.
func (p *pinger) visit(gen int) {
	p.mu.Lock()
	if gen != p.gen || p.timer == nil {
		p.mu.Unlock()
		return
	}
	p.timer.Reset(p.tick)
	due := make([]*conn, 0, len(p.slots[p.next]))
	for c := range p.slots[p.next] {
		due = append(due, c)
	}
	p.next = (p.next + 1) % pingSlots
	now := time.Now()
	var silent []*conn
	for _, slot := range p.slots {
		for c := range slot {
			if c.silentParked(now) {
				silent = append(silent, c)
			}
		}
	}
	p.mu.Unlock()
	for _, c := range due {
		c.ping()
	}
	for _, c := range silent {
		c.wakeReader() // its read times out at once and ends it
	}
}
