// Package cost measures what calls cost a process: CPU time (user and
// system, from getrusage), heap allocations (count and bytes, from
// runtime.MemStats), resident memory (current and peak) and bytes on the
// wire (package wirestats). A Snapshot is taken before and after a measured
// window and the difference divided by the calls made in it.
//
// The same Snapshot is what a server process reports about itself
// (services/admin.Stats, over the wire or a server process's stdout), so
// its JSON form is part of that wire format.
package cost

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"rpcbench/wirestats"
)

// Snapshot is a process's cumulative counters at one moment.
type Snapshot struct {
	// TakenAt is the wall-clock time of the snapshot (Unix nanoseconds).
	TakenAt int64 `json:"taken_at_unix_ns"`
	// CPU time since the process started.
	CPUUserNs int64 `json:"cpu_user_ns"`
	CPUSysNs  int64 `json:"cpu_sys_ns"`
	// Heap allocations since the process started.
	Mallocs    uint64 `json:"mallocs"`
	AllocBytes uint64 `json:"alloc_bytes"`
	GCs        uint32 `json:"gc_cycles"`
	// Resident memory now and its peak (VmHWM; see ResetPeakRSS).
	RSSBytes     uint64 `json:"rss_bytes"`
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	// Wire is this process's socket byte counters.
	Wire wirestats.Snapshot `json:"wire"`
	// Settings that shape the figures.
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUs       []int  `json:"cpus,omitempty"` // the process's CPU affinity
	GoVersion  string `json:"go_version"`
	PID        int    `json:"pid"`
}

// Take reads every counter. It stops the world briefly (ReadMemStats), so
// take it outside measured windows or accept a few microseconds.
func Take() Snapshot {
	s := Snapshot{TakenAt: time.Now().UnixNano(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), PID: os.Getpid()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.CPUUserNs = ru.Utime.Nano()
		s.CPUSysNs = ru.Stime.Nano()
		s.PeakRSSBytes = uint64(ru.Maxrss) * 1024 // Linux reports KiB
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.Mallocs, s.AllocBytes, s.GCs = ms.Mallocs, ms.TotalAlloc, ms.NumGC
	if rss, hwm, ok := procStatus(); ok {
		s.RSSBytes, s.PeakRSSBytes = rss, hwm
	}
	s.Wire = wirestats.Take()
	s.CPUs, _ = Affinity()
	return s
}

// Delta is the cost of a window: the difference of two snapshots, with the
// peak RSS of the later one.
type Delta struct {
	CPUUserNs    int64              `json:"cpu_user_ns"`
	CPUSysNs     int64              `json:"cpu_sys_ns"`
	Mallocs      uint64             `json:"mallocs"`
	AllocBytes   uint64             `json:"alloc_bytes"`
	GCs          uint32             `json:"gc_cycles"`
	PeakRSSBytes uint64             `json:"peak_rss_bytes"`
	Wire         wirestats.Snapshot `json:"wire"`
	WallNs       int64              `json:"wall_ns"`
}

// Sub returns the cost of the window from before to s.
func (s Snapshot) Sub(before Snapshot) Delta {
	return Delta{
		CPUUserNs:    s.CPUUserNs - before.CPUUserNs,
		CPUSysNs:     s.CPUSysNs - before.CPUSysNs,
		Mallocs:      s.Mallocs - before.Mallocs,
		AllocBytes:   s.AllocBytes - before.AllocBytes,
		GCs:          s.GCs - before.GCs,
		PeakRSSBytes: s.PeakRSSBytes,
		Wire:         s.Wire.Sub(before.Wire),
		WallNs:       s.TakenAt - before.TakenAt,
	}
}

// ResetPeakRSS resets the kernel's peak-RSS mark (VmHWM) of this process,
// so that a later Snapshot's peak covers only what came after (Linux 4.0+).
// Where that is not possible the peak is the process's lifetime peak.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// procStatus reads VmRSS and VmHWM from /proc/self/status.
func procStatus() (rss, hwm uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		var dst *uint64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &rss
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &hwm
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) >= 2 {
			if v, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
				*dst = v * 1024
			}
		}
	}
	return rss, hwm, hwm > 0
}

// Add returns the cost of two windows together (of two processes, or one
// after the other): counters summed, the larger peak RSS and wall time.
func (d Delta) Add(o Delta) Delta {
	return Delta{
		CPUUserNs:    d.CPUUserNs + o.CPUUserNs,
		CPUSysNs:     d.CPUSysNs + o.CPUSysNs,
		Mallocs:      d.Mallocs + o.Mallocs,
		AllocBytes:   d.AllocBytes + o.AllocBytes,
		GCs:          d.GCs + o.GCs,
		PeakRSSBytes: max(d.PeakRSSBytes, o.PeakRSSBytes),
		Wire:         d.Wire.Add(o.Wire),
		WallNs:       max(d.WallNs, o.WallNs),
	}
}
