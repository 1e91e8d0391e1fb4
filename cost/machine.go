package cost

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// CPUModel returns the processor's model name, or "unknown".
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Kernel returns the kernel's release and version.
func Kernel() string {
	rel, err1 := os.ReadFile("/proc/sys/kernel/osrelease")
	ver, err2 := os.ReadFile("/proc/sys/kernel/version")
	if err1 != nil || err2 != nil {
		return runtime.GOOS
	}
	return runtime.GOOS + " " + strings.TrimSpace(string(rel)) + " " + strings.TrimSpace(string(ver))
}

// SplitCPUs divides the CPUs this process may use between a client and a
// server: the lower half to the client, the upper half to the server. It
// returns ok=false on a machine with a single CPU.
func SplitCPUs() (client, server []int, ok bool) {
	cpus, err := Affinity()
	if err != nil || len(cpus) < 2 {
		return nil, nil, false
	}
	h := len(cpus) / 2
	return cpus[:h], cpus[h:], true
}

// FormatCPUs writes a CPU list as taskset does: "0-3,6".
func FormatCPUs(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", cpus[i], cpus[j])
		} else {
			fmt.Fprintf(&b, "%d", cpus[i])
		}
		i = j + 1
	}
	return b.String()
}

// ParseCPUs reads a CPU list such as "0-3,6".
func ParseCPUs(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("cost: bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cost: bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("cost: empty CPU list %q", s)
	}
	return cpus, nil
}

// Host describes the machine one side of a benchmark ran on; a run's
// manifest holds the client's and, when the server runs elsewhere, the
// server's.
type Host struct {
	Hostname  string `json:"hostname"`
	CPUModel  string `json:"cpu_model"`
	Cores     int    `json:"cores"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

// ThisHost describes the machine this process runs on.
func ThisHost() Host {
	name, _ := os.Hostname()
	return Host{Hostname: name, CPUModel: CPUModel(), Cores: runtime.NumCPU(), Kernel: Kernel(), GoVersion: runtime.Version()}
}

// String is a one-line description for reports.
func (h Host) String() string {
	return fmt.Sprintf("%s: %s, %d logical CPUs, %s, %s", h.Hostname, h.CPUModel, h.Cores, h.Kernel, h.GoVersion)
}
