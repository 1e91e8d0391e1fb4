package results

import "time"

// StatusDegraded marks a repetition (and its cell) whose load ran on
// several worker processes (package fleet) when one of them died or
// stalled: the load was not the one asked for, so nothing of it is merged.
const StatusDegraded = "degraded"

// Fleet describes the worker processes that generated a run's load,
// coordinated through etcd.
type Fleet struct {
	// Coordinator is the etcd URL, without credentials.
	Coordinator string `json:"coordinator"`
	Expect      int    `json:"expect"`
	// LeaseTTLNs is the workers' and the coordinator's lease TTL: how
	// long a dead process goes unnoticed at most.
	LeaseTTLNs int64         `json:"lease_ttl_ns"`
	Workers    []FleetWorker `json:"workers"`
	// Split says how each cell's load is divided among workers.
	Split string `json:"split"`
}

// FleetWorker is one worker process as it joined.
type FleetWorker struct {
	Name   string    `json:"name"`
	Host   string    `json:"host"`
	PID    int       `json:"pid"`
	Joined time.Time `json:"joined"`
	// ClockOffsetNs is the worker's clock minus the coordinator's,
	// measured by ping and pong through etcd (the pong's time against the
	// midpoint of the exchange with the shortest round trip, RTTNs).
	ClockOffsetNs int64 `json:"clock_offset_ns"`
	RTTNs         int64 `json:"rtt_ns"`
}

// FleetRep is how one repetition's load was shared and started.
type FleetRep struct {
	Shares []Share `json:"shares"`
	// StartAtUnixNs is the agreed start instant (coordinator's clock);
	// StartSpreadNs the latest minus the earliest measured window start,
	// each corrected by its worker's clock offset.
	StartAtUnixNs int64 `json:"start_at_unix_ns"`
	StartSpreadNs int64 `json:"start_spread_ns"`
	// CoordinationNs runs from publishing the cell to the last upload.
	CoordinationNs int64 `json:"coordination_ns"`
}

// Share is one worker's part of a cell's load; its figures are in the
// repetition's Figures.Loads in the same order.
type Share struct {
	Worker      string  `json:"worker"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"`
	// StartOffsetNs is when its window began relative to the agreed
	// instant (coordinator's clock).
	StartOffsetNs int64 `json:"start_offset_ns"`
}

// Degraded says which worker failed a repetition, when and how; Partial
// holds the figures of the workers that finished, by name, apart from
// any merged figure.
type Degraded struct {
	Worker  string              `json:"worker"`
	At      time.Time           `json:"at"`
	Reason  string              `json:"reason"`
	Partial map[string]*Figures `json:"partial,omitempty"`
}
