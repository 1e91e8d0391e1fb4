package services

import (
	"context"

	"rpcbench"
	"rpcbench/harness/cost"
)

// AdminStats is Admin.Stats's reply: the serving process's own cost
// counters (CPU, allocations, RSS, socket bytes; see harness/cost) and the
// server's call counters. Counters are cumulative; take two and subtract.
type AdminStats struct {
	cost.Snapshot
	Calls    uint64 `json:"calls"`
	Failed   uint64 `json:"failed"`
	Inflight int64  `json:"inflight"`
}

// AdminStatsArgs is Admin.Stats's (empty) request.
type AdminStatsArgs struct{}

// CollectAdminStats reads srv's process and call counters.
func CollectAdminStats(srv *rpcbench.Server) AdminStats {
	st := srv.Stats()
	return AdminStats{Snapshot: cost.Take(), Calls: st.Calls, Failed: st.Failed, Inflight: st.Inflight}
}

// RegisterAdmin adds the administrative methods to srv:
//
//	Admin.Stats   {} -> AdminStats (use a codec that encodes plain structs, e.g. json)
//
// The harness's own server process reports the same figures over its
// stdin/stdout instead, so that asking for them puts no bytes on the wire
// being measured.
func RegisterAdmin(srv *rpcbench.Server) error {
	return rpcbench.Handle(srv, "Admin.Stats", func(context.Context, *AdminStatsArgs) (*AdminStats, error) {
		st := CollectAdminStats(srv)
		return &st, nil
	})
}
