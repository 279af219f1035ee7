package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// readRSS returns the resident set size of process pid in KiB, from the
// VmRSS line of /proc/<pid>/status (Linux only).
func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // "123456 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("/proc/%d/status: odd VmRSS line %q", pid, sc.Text())
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS (a kernel thread or a zombie?)", pid)
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. It
// is 100 on every Linux architecture Go supports; the standard library
// cannot ask sysconf.
const clockTicks = 100

// readCPU returns the user plus system CPU time of process pid in seconds,
// from /proc/<pid>/stat (Linux only). pid 0 means this process.
func readCPU(pid int) (float64, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields are counted after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New(path + ": malformed")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New(path + ": malformed")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return float64(ut+st) / clockTicks, nil
}

// readMachineCPU returns the busy CPU time of the whole machine in seconds,
// summed over its CPUs, and the part of it spent in interrupts (irq and
// softirq: on loopback, much of TCP's work), from the first line of
// /proc/stat (Linux only). Busy is everything but idle, iowait and steal;
// the interrupt time is charged to no process.
func readMachineCPU() (busy, irq float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, errors.New("/proc/stat: malformed")
	}
	// user nice system idle iowait irq softirq steal (guest and
	// guest_nice, which follow, are already counted in user and nice).
	var v [8]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[1+i], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	busy = float64(v[0]+v[1]+v[2]+v[5]+v[6]) / clockTicks
	irq = float64(v[5]+v[6]) / clockTicks
	return busy, irq, nil
}

// goStats are the Go runtime figures a hubbub server exports on /metrics.
type goStats struct {
	goroutines, heapInuse, stackInuse float64 // count, bytes, bytes
}

// scrapeGoStats reads the server's go_goroutines and heap and stack in use
// from the Prometheus /metrics beside the WebSocket URL wsURL.
func scrapeGoStats(ctx context.Context, wsURL string) (goStats, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return goStats{}, err
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path, u.RawQuery = "/metrics", ""
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return goStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return goStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return goStats{}, fmt.Errorf("%s: %s", u, resp.Status)
	}
	var s goStats
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case "go_goroutines":
			dst = &s.goroutines
		case "go_memstats_heap_inuse_bytes":
			dst = &s.heapInuse
		case "go_memstats_stack_inuse_bytes":
			dst = &s.stackInuse
		default:
			continue
		}
		if *dst, err = strconv.ParseFloat(value, 64); err != nil {
			return goStats{}, fmt.Errorf("%s: %s: %w", u, name, err)
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return goStats{}, err
	}
	if found < 3 {
		return goStats{}, fmt.Errorf("%s: no Go runtime metrics", u)
	}
	return s, nil
}
