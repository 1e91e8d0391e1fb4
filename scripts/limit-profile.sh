#!/usr/bin/env bash
# limit-profile.sh: where an rpcbench cell's time goes against its raw
# limit's. Runs one ad-hoc closed-loop cell per transport named (e.g.
# tcp raw-tcp-pipelined), pinned as the harness pins a cell, and during a
# fixed part of its window attaches perf to the client (this bench
# process) and to its server process: CPU, syscalls and context switches
# per call on each side, then each side's hottest symbols.
#
#   scripts/limit-profile.sh [-c CONC] [-p PAYLOAD] [-k CODEC] [-d SECS] TRANSPORT...
#
# e.g. scripts/limit-profile.sh tcp raw-tcp-pipelined http1 raw-fasthttp udp raw-udp-batched
# Needs perf (linux-perf) and root or kernel.perf_event_paranoid <= 0.
# Run it on a quiet machine. Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
conc=64 payload='Bytes(64)' codec=raw secs=3
while getopts "c:p:k:d:" opt; do
	case $opt in
	c) conc=$OPTARG ;;
	p) payload=$OPTARG ;;
	k) codec=$OPTARG ;;
	d) secs=$OPTARG ;;
	*) sed -n '2,14p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
command -v perf >/dev/null || { echo "limit-profile: perf not found (apt-get install linux-perf)" >&2; exit 2; }
# KEEP=DIR keeps the perf data and the runs there.
if [ -n "${KEEP:-}" ]; then tmp=$KEEP; mkdir -p "$tmp"; else
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
fi
go build -o "$tmp/rpcbench" ./cmd/rpcbench

# side NAME PID OUT: perf stat and perf record of PID for $secs seconds.
side() {
	perf stat -x, -e task-clock,raw_syscalls:sys_enter,context-switches,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_futex -p "$2" -o "$3.stat" -- sleep "$secs" &
	perf record -q -F 2000 -g -p "$2" -o "$3.data" -- sleep "$secs" >/dev/null 2>&1 &
	wait
}
for t in "$@"; do
	out=$tmp/$t
	# The window outlasts the profile: a second of warm-up, the profile,
	# two seconds to spare.
	"$tmp/rpcbench" bench --transport "$t" --codec "$codec" --payload "$payload" --concurrency "$conc" --conns 1 \
		--warmup 1s --duration $((secs + 3))s --progress never --out "$out" >"$out.log" 2>&1 &
	bench=$!
	srv=""
	for _ in $(seq 100); do
		srv=$(pgrep -P "$bench" -f bench-server || true)
		[ -n "$srv" ] && break
		sleep 0.05
	done
	[ -n "$srv" ] || { echo "limit-profile: $t: no server process (see $out.log)" >&2; cat "$out.log" >&2; exit 1; }
	sleep 1.5
	side client "$bench" "$out.client" &
	c=$!
	side server "$srv" "$out.server" &
	wait $c $!
	wait "$bench" || { echo "limit-profile: $t: bench failed" >&2; cat "$out.log" >&2; exit 1; }
	tput=$(jq '.cells[0].merged.throughput.median' "$out/results.json")
	echo "== $t: $(printf '%.0f' "$tput") calls/s (c=$conc, $codec $payload, one connection)"
	for s in client server; do
		awk -F, -v s="$s" -v calls="$(echo "$tput * $secs" | bc)" '
			$3 == "task-clock" { cpu = $1 * 1e6 / calls }       # msec → ns per call
			$3 == "raw_syscalls:sys_enter" { sc = $1 / calls }
			$3 == "context-switches" { cs = $1 / calls }
			$3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 { n = $3; sub(/^syscalls:sys_enter_/, "", n); by = by sprintf(" %s %.3f", n, $1 / calls) }
			END { printf "   %-6s CPU %6.0f ns/call  syscalls %5.2f/call  context switches %5.2f/call\n          per call:%s\n", s, cpu, sc, cs, by }' "$out.$s.stat"
	done
	# The kernel's share first (by object), then the process's own
	# hottest functions: the part an RPC layer can change.
	for s in client server; do
		echo "   $s: share by object"
		perf report -q -i "$out.$s.data" --no-children -g none --sort dso --percent-limit 1 2>/dev/null | grep -v '^$' | sed 's/^/     /'
		echo "   $s: hottest functions of rpcbench itself (% of all samples)"
		perf report -q -i "$out.$s.data" --no-children -g none --dsos rpcbench --sort sym --percent-limit 0.8 2>/dev/null | grep -v '^$' | head -20 | sed 's/^/     /'
	done
done
