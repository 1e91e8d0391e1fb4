package report

import (
	"fmt"
	"strings"

	"rpcbench/harness/results"
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
