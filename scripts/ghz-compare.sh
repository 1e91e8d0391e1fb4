#!/usr/bin/env bash
# ghz-compare.sh: ghz and rpcbench against the same gRPC server (the
# example greeter, 'rpcbench greeter-server'), closed loop at concurrency 1
# and 64, the same number of calls each, in ROUNDS interleaved rounds
# (ABBA order: ghz first in rounds 1 and 4, rpcbench first in 2 and 3, ...);
# prints each round's throughput, p50 and client CPU per call, then per
# concurrency the medians over the rounds and the median (min–max) of the
# per-round rpcbench/ghz ratios. Not part of 'make test'.
#
#   [PIN=1] [ROUNDS=6] [WORK=0s] scripts/ghz-compare.sh [CALLS_C1] [CALLS_C64]
#
# Needs ghz on PATH or in $(go env GOPATH)/bin
# (go install github.com/bojand/ghz/cmd/ghz@latest). The client CPU per call
# is each whole process's user+sys time divided by its calls (start-up
# included for both); rpcbench's own in-window figure is printed beside it.
# Both clients use one connection and the .proto file (no reflection).
# PIN=1 runs the server on CPU 0 and each tool on CPU 1, as the harness
# pins a cell, so that neither tool's own CPU takes the server's.
# WORK gives the server a busy-wait per call (greeter-server --work), so
# that the server, not either generator, limits the throughput: then both
# tools measure the same system, and their figures should agree.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${1:-20000}
N64=${2:-100000}
ROUNDS=${ROUNDS:-6}
WORK=${WORK:-0s}
GHZ=$(command -v ghz || echo "$(go env GOPATH)/bin/ghz")
[ -x "$GHZ" ] || { echo "ghz-compare: ghz not found (go install github.com/bojand/ghz/cmd/ghz@latest)" >&2; exit 2; }
srv_cpu="" tool_cpu=""
if [ "${PIN:-}" = 1 ]; then srv_cpu="taskset -c 0" tool_cpu="taskset -c 1"; fi
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/rpcbench" ./cmd/rpcbench
$srv_cpu "$tmp/rpcbench" greeter-server --grpc 127.0.0.1:0 --http "" --work "$WORK" >"$tmp/server.out" &
server=$!
for _ in $(seq 50); do grep -q "serving grpc" "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/.*serving grpc on \([^ ]*\).*/\1/p' "$tmp/server.out")
[ -n "$addr" ] || { echo "ghz-compare: greeter-server did not start" >&2; exit 1; }
proto=targets/greeter/greetpb/greet.proto
call=greet.v1.Greeter/SayHello
data='{"name":"bench","tags":["a","b"]}'
TIMEFORMAT='%U %S'

# ghz C N ROUND / rb C N ROUND: one closed-loop run; one line of figures
# "tool c round calls/s p50_ns cpu_ns_per_call in_window_cpu_ns" to rows.
rows=$tmp/rows
ghz() {
	{ time $tool_cpu "$GHZ" --insecure --proto "$proto" --call "$call" -d "$data" -c "$1" -n "$2" --connections 1 -O json "$addr" >"$tmp/ghz.json"; } 2>"$tmp/ghz.time"
	jq -r --arg c "$1" --arg r "$3" --arg n "$2" --arg t "$(cat "$tmp/ghz.time")" \
		'"ghz \($c) \($r) \(.rps) \(.latencyDistribution[] | select(.percentage == 50) | .latency) \(($t | split(" ") | map(tonumber) | add) / ($n | tonumber) * 1e9) -"' "$tmp/ghz.json" >>"$rows"
}
rb() {
	{ time $tool_cpu "$tmp/rpcbench" bench --target "grpc://$addr" --proto "$proto" --call "$call" --data "$data" \
		--concurrency "$1" --conns 1 --calls "$2" --warmup 0s --progress never --pin off --out "$tmp/rb" >/dev/null; } 2>"$tmp/rb.time"
	jq -r --arg c "$1" --arg r "$3" --arg n "$2" --arg t "$(cat "$tmp/rb.time")" \
		'.cells[0].merged | "rpcbench \($c) \($r) \(.throughput.median) \(.latency.p50_ns) \(($t | split(" ") | map(tonumber) | add) / ($n | tonumber) * 1e9) \(.per_call.client_cpu_ns)"' "$tmp/rb/results.json" >>"$rows"
}

: >"$rows"
for c in 1 64; do
	n=$N1; [ "$c" = 64 ] && n=$N64
	# Warm the server up so that neither tool meets a cold one.
	$tool_cpu "$GHZ" --insecure --proto "$proto" --call "$call" -d "$data" -c 8 -n 5000 --connections 1 "$addr" >/dev/null
	for r in $(seq 1 "$ROUNDS"); do
		case $((r % 4)) in
		1 | 0) ghz "$c" "$n" "$r"; rb "$c" "$n" "$r" ;;
		*) rb "$c" "$n" "$r"; ghz "$c" "$n" "$r" ;;
		esac
	done
done

echo "ghz-compare: server work ${WORK} per call, ${ROUNDS} rounds, pinned ${PIN:-0}"
printf '%-8s %-4s %-5s %12s %10s %16s %22s\n' tool c round "calls/s" "p50" "CPU µs/call" "(in-window CPU µs/call)"
awk '{ printf "%-8s %-4s %-5s %12.0f %9.0fµs %16.2f %22s\n", $1, $2, $3, $4, $5 / 1e3, $6 / 1e3, ($7 == "-" ? "-" : sprintf("%.2f", $7 / 1e3)) }' "$rows"
echo
echo "medians over the rounds, and the per-round rpcbench/ghz ratio: median (min–max)"
python3 - "$rows" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
def col(tool, c, i): return {r[2]: float(r[i]) for r in rows if r[0] == tool and r[1] == c}
print("%-4s %-10s %12s %12s %24s" % ("c", "figure", "ghz", "rpcbench", "rpcbench/ghz"))
for c in sorted({r[1] for r in rows}, key=int):
    for name, i, scale, unit in (("calls/s", 3, 1, ""), ("p50", 4, 1e3, "µs"), ("CPU/call", 5, 1e3, "µs")):
        g, b = col("ghz", c, i), col("rpcbench", c, i)
        ratios = sorted(b[k] / g[k] for k in g if k in b)
        print("%-4s %-10s %11.1f%s %11.1f%s %10.2f (%.2f–%.2f)" % (c, name, st.median(g.values()) / scale, unit, st.median(b.values()) / scale, unit, st.median(ratios), ratios[0], ratios[-1]))
PY
