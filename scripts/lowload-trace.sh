#!/bin/sh
# lowload-trace.sh: evidence for the low-load tail of open-loop sweeps
# (why a step at 5% of capacity can have a worse p99 than full load).
#
# For rpcbench's TCP transport and its raw limit (raw-tcp-pipelined), the
# same schedule: a closed-loop probe gives the capacity at 64 callers,
# then an open-loop cell at PCT% of it runs under runtime/trace. For each
# it prints the harness summary (corrected and uncorrected p99, pacer
# lag) and, from the client's trace, where goroutines waited:
#   sched: time runnable but not running (wake-up latency of parked
#          workers, the reader, the writer; idle Ps that must be woken)
#   net:   time blocked on the network (waiting for replies)
# If the raw limit's tail rises at low load as much as rpcbench's, the
# machine (idle CPU wake-up, the scheduler) is the cause, not the RPC
# layer. Run it on a quiet machine: figures on a shared, busy one are
# noise. Not part of make test.
#
# usage: scripts/lowload-trace.sh [PCT] [DURATION]   (default 5 2s)
set -eu
pct=${1:-5}
dur=${2:-2s}
cd "$(dirname "$0")/.."
go build -o bin/rpcbench ./cmd/rpcbench
out=$(mktemp -d /tmp/lowload.XXXXXX)
echo "traces in $out"
for t in tcp raw-tcp-pipelined; do
	cap=$(bin/rpcbench bench --transport "$t" --concurrency 64 --duration 1s --progress never |
		awk '/throughput/ { v = $2; if (v ~ /k$/) { sub(/k$/, "", v); v *= 1000 } else if (v ~ /M$/) { sub(/M$/, "", v); v *= 1000000 }; print int(v) }')
	rate=$((cap * pct / 100))
	echo
	echo "=== $t: capacity $cap calls/s closed loop, open loop at $pct% = $rate calls/s for $dur"
	bin/rpcbench bench --transport "$t" --concurrency 64 --load open --rate "$rate" --duration "$dur" \
		--progress never --trace "$out/$t.trace"
	go tool trace -pprof=sched "$out/$t.trace" >"$out/$t.sched.pprof" 2>/dev/null || true
	go tool trace -pprof=net "$out/$t.trace" >"$out/$t.net.pprof" 2>/dev/null || true
	echo "--- $t: scheduler wait (runnable, not running), top stacks"
	go tool pprof -top -nodecount=12 "$out/$t.sched.pprof" 2>/dev/null | sed -n '1,20p'
	echo "--- $t: network wait, top stacks"
	go tool pprof -top -nodecount=6 "$out/$t.net.pprof" 2>/dev/null | sed -n '1,12p'
done
echo
echo "Compare the sched totals per call (total / (rate × duration)) of the two; open the traces with"
echo "  go tool trace $out/tcp.trace   (View trace: look for gaps between a worker's release and its Send)"
