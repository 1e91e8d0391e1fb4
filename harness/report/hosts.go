package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"rpcbench/harness/results"
	"rpcbench/internal/plural"
)

// hostRows describe the hosts of a run whose server ran elsewhere: the
// "cpu" and "kernel" rows are then the client's alone.
func hostRows(m results.Manifest) [][2]string {
	var rows [][2]string
	if s := m.ServerHost; s != nil {
		rows = append(rows, [2]string{"server host", fmt.Sprintf("%s; pid %d at %s serving %s", s.Host, s.PID, s.Addr, strings.Join(s.Serving, ", "))})
		if len(m.Loads) == 0 {
			rows = append(rows, [2]string{"client host", m.Hostname})
		}
	}
	for _, l := range m.Loads {
		rows = append(rows, [2]string{fmt.Sprintf("load %d", l.LoadID), fmt.Sprintf("%s; run %s", l.Host, l.RunID)})
	}
	return rows
}

// fleetRows describe the workers of a run whose load a fleet generated,
// and how closely their windows started together.
func fleetRows(run *results.Run) [][2]string {
	f := run.Manifest.Fleet
	if f == nil {
		return nil
	}
	rows := [][2]string{{"fleet", fmt.Sprintf("%s expected at %s, leases of %v; %s", plural.Count(f.Expect, "worker"), f.Coordinator, time.Duration(f.LeaseTTLNs), f.Split)}}
	for _, w := range f.Workers {
		rows = append(rows, [2]string{"worker " + w.Name, fmt.Sprintf("%s pid %d, joined %s; clock offset %v (round trip %v)",
			w.Host, w.PID, w.Joined.UTC().Format(time.RFC3339), time.Duration(w.ClockOffsetNs), time.Duration(w.RTTNs))})
	}
	var spread, coord []time.Duration
	degraded := 0
	for _, c := range run.Cells {
		for _, rr := range c.Reps {
			if rr.Degraded != nil {
				degraded++
			}
			if rr.Fleet != nil && rr.Figures != nil {
				spread = append(spread, time.Duration(rr.Fleet.StartSpreadNs))
				coord = append(coord, time.Duration(rr.Fleet.CoordinationNs))
			}
		}
	}
	if len(spread) > 0 {
		slices.Sort(spread)
		slices.Sort(coord)
		rows = append(rows, [2]string{"fleet timing", fmt.Sprintf("over %d repetitions: start spread median %v, max %v; coordination (publication to last upload) median %v; %d degraded",
			len(spread), spread[len(spread)/2].Round(time.Microsecond), spread[len(spread)-1].Round(time.Microsecond), coord[len(coord)/2].Round(time.Millisecond), degraded)})
	}
	return rows
}
