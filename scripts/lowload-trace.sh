#!/bin/sh
# lowload-trace.sh: evidence for the low-load tail of open-loop sweeps
# (why a step at 5% of capacity can have a worse p99 than full load).
#
# 1. The same open-loop schedule for rpcbench's TCP transport and its raw
#    limit (raw-tcp-pipelined): 5, 10 and 20% of TCP's closed-loop
#    capacity at 64 callers (probed first), and the closed loop itself,
#    interleaved over REPS repetitions with pinning as in make bench. The
#    report's "Open-loop cells" table splits each call's corrected latency
#    into its hand-offs: pacer lag (intended time -> release), queue p99
#    (release -> a worker free to send it; large only when every worker
#    is stuck in a call, i.e. a stall), uncorrected p99 (send -> reply).
#    If the limit's tail rises at low load as rpcbench's does, the machine
#    (idle CPUs waking slowly, the host) is the cause, not the RPC layer.
#    The no-op target at the same rates gives the pacer's own lag: the
#    client's wake-up latency with no network and no server.
# 2. Each transport once more at 5% under runtime/trace (bench --trace),
#    with the scheduler-wait and network-wait profiles of the client
#    (go tool trace -pprof=sched|net): where goroutines waited for a CPU
#    after being woken (reader, writer, workers, pacer).
#
# Run it on a quiet machine: figures on a shared, busy one are noise. Not
# part of make test.
#
# usage: scripts/lowload-trace.sh [REPS] [DURATION]   (default 3 1s)
set -eu
reps=${1:-3}
dur=${2:-1s}
cd "$(dirname "$0")/.."
go build -o bin/rpcbench ./cmd/rpcbench
out=$(mktemp -d /tmp/lowload.XXXXXX)
echo "output in $out"
cap=$(bin/rpcbench bench --transport tcp --concurrency 64 --duration 1s --progress never |
	awk '$1 == "throughput" { v = $2; m = 1; if (v ~ /k$/) m = 1e3; if (v ~ /M$/) m = 1e6; sub(/[kM]$/, "", v); printf "%.0f\n", v * m }')
r5=$((cap * 5 / 100))
r10=$((cap * 10 / 100))
r20=$((cap * 20 / 100))
echo "tcp closed-loop capacity at 64 callers: $cap calls/s; open-loop rates $r5, $r10, $r20"
cat >"$out/lowload.yaml" <<YAML
name: lowload
repetitions: $reps
warmup: 200ms
duration: $dur
generator_ceiling: false
groups:
  - name: main
    dimensions:
      transport: [tcp, raw-tcp-pipelined]
      codec: [proto]
      payload: [Small]
      concurrency: [64]
      load: [closed, "open@$r5", "open@$r10", "open@$r20"]
  # The pacer alone on a no-op target: its lag at these rates is the
  # client's own wake-up latency (timerfd, netpoll, an idle P), with no
  # network and no server.
  - name: pacer
    dimensions:
      transport: [noop]
      codec: [none]
      payload: [none]
      concurrency: [64]
      load: ["open@$r5", "open@$r10", "open@$r20"]
YAML
bin/rpcbench bench --matrix "$out/lowload.yaml" --out "$out/run" --progress never >/dev/null
echo
# The cells (closed loop: full-load p99 for comparison), then the
# open-loop hand-offs.
sed -n '/^## main/,/^## /p' "$out/run/report.md" | sed '$d'
sed -n '/^## Open-loop cells/,/^## /p' "$out/run/report.md" | sed '$d'
echo "(whole report in $out/run/report.md)"
for t in tcp raw-tcp-pipelined; do
	echo
	echo "=== $t at $r5 calls/s under runtime/trace"
	bin/rpcbench bench --transport "$t" --concurrency 64 --load open --rate "$r5" --duration "$dur" \
		--progress never --trace "$out/$t.trace" | grep -E 'latency|uncorrected|BEHIND' || true
	go tool trace -pprof=sched "$out/$t.trace" >"$out/$t.sched.pprof" 2>/dev/null || true
	go tool trace -pprof=net "$out/$t.trace" >"$out/$t.net.pprof" 2>/dev/null || true
	echo "--- $t: scheduler wait (runnable, not running), by where the goroutine had blocked"
	go tool pprof -top -nodecount=10 "$out/$t.sched.pprof" 2>/dev/null | sed -n '4,16p'
done
echo
echo "Open a trace with: go tool trace $out/tcp.trace (View trace by proc: gaps where the client's P is idle"
echo "while a reply is on the socket are wake-up latency; compare with $out/raw-tcp-pipelined.trace)."
