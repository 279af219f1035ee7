package inspect

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// deadlineConn records the deadlines set on it; SetWriteDeadline fails
// while fail is set.
type deadlineConn struct {
	net.Conn
	calls []string
	fail  bool
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	if d.fail {
		d.calls = append(d.calls, fmt.Sprintf("write %d failed", t.Unix()))
		return errors.New("closed")
	}
	d.calls = append(d.calls, fmt.Sprintf("write %d", t.Unix()))
	return nil
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.calls = append(d.calls, fmt.Sprintf("both %d", t.Unix()))
	return nil
}

// TestConnSkipsSameWriteDeadline: a write deadline already set is not set
// again; any other deadline is, and so is one after SetDeadline changed it
// or after setting it failed.
func TestConnSkipsSameWriteDeadline(t *testing.T) {
	t1, t2 := time.Unix(100, 0), time.Unix(200, 0)
	type call struct {
		both bool // SetDeadline instead of SetWriteDeadline
		t    time.Time
		fail bool
	}
	tests := []struct {
		name  string
		calls []call
		want  []string
	}{
		{"same deadline again", []call{{t: t1}, {t: t1}, {t: t1}}, []string{"write 100"}},
		{"a new deadline", []call{{t: t1}, {t: t2}, {t: t2}, {t: t1}}, []string{"write 100", "write 200", "write 100"}},
		{"after SetDeadline", []call{{t: t1}, {both: true, t: t2}, {t: t2}, {t: t1}}, []string{"write 100", "both 200", "write 100"}},
		{"after a failure", []call{{t: t1, fail: true}, {t: t1}, {t: t1}}, []string{"write 100 failed", "write 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc := &deadlineConn{}
			c := NewConn(dc, NewTap(true, false, false))
			for _, cl := range tt.calls {
				dc.fail = cl.fail
				if cl.both {
					c.SetDeadline(cl.t)
				} else {
					c.SetWriteDeadline(cl.t)
				}
			}
			if diff := cmp.Diff(tt.want, dc.calls); diff != "" {
				t.Errorf("deadlines set on the socket (-want +got):\n%s", diff)
			}
		})
	}
}
