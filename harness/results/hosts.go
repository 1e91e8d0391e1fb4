package results

import (
	"time"

	"rpcbench/cost"
)

// ServerHost is a server the run did not start: 'rpcbench serve' on
// another host, as its Admin.Host call described it.
type ServerHost struct {
	cost.Host
	// Addr is the address its admin methods were reached at.
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
	// Serving lists its listeners ("tcp on 10.0.0.1:7000").
	Serving []string `json:"serving,omitempty"`
}

// Load is one load process of a merged run.
type Load struct {
	LoadID   int       `json:"load_id"`
	RunID    string    `json:"run_id"`
	Dir      string    `json:"dir,omitempty"`
	Host     cost.Host `json:"host"`
	Command  []string  `json:"command,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// ClientHost is the host the run's load ran on.
func (m Manifest) ClientHost() cost.Host {
	return cost.Host{Hostname: m.Hostname, CPUModel: m.CPUModel, Cores: m.Cores, Kernel: m.Kernel, GoVersion: m.GoVersion}
}
