package udp

import "sync/atomic"

// Stats are process-wide counters of the transport's recovery work; they
// only grow, so readers take deltas.
type Stats struct {
	// Retransmits: client timeouts that sent a request (or its last
	// fragment, or a report of missing reply fragments) again.
	Retransmits uint64
	// GiveUps: calls failed locally after RetryTimeout or their budget.
	GiveUps uint64
	// StaleReplies: replies dropped by clients because their call was no
	// longer outstanding (late, duplicated or abandoned).
	StaleReplies uint64
	// DuplicateRequests: copies of a request the server did not run again
	// (answered from the cache, acknowledged as running, or dropped).
	DuplicateRequests uint64
	// FragmentReports: reports of missing fragments sent by either side.
	FragmentReports uint64
	// BadDatagrams: datagrams discarded as malformed.
	BadDatagrams uint64
	// AmplificationHeld: datagrams a server did not send to an address
	// that has not echoed its cookie, as they would have exceeded three
	// times the bytes received from it.
	AmplificationHeld uint64
	// VerifiedAddrs: client addresses that echoed a valid cookie.
	VerifiedAddrs uint64
}

var stats struct {
	retransmits, giveUps, staleReplies, duplicateRequests, fragmentReports, badDatagrams, amplificationHeld, verifiedAddrs atomic.Uint64
}

// ReadStats returns the counters.
func ReadStats() Stats {
	return Stats{
		Retransmits:       stats.retransmits.Load(),
		GiveUps:           stats.giveUps.Load(),
		StaleReplies:      stats.staleReplies.Load(),
		DuplicateRequests: stats.duplicateRequests.Load(),
		FragmentReports:   stats.fragmentReports.Load(),
		BadDatagrams:      stats.badDatagrams.Load(),
		AmplificationHeld: stats.amplificationHeld.Load(),
		VerifiedAddrs:     stats.verifiedAddrs.Load(),
	}
}
