#!/usr/bin/env bash
# ghz-compare.sh: ghz and rpcbench against the same gRPC server (the
# example greeter, 'rpcbench greeter-server'), closed loop at concurrency 1
# and 64, the same number of calls each; prints throughput, p50 and the
# client's CPU per call side by side. Not part of 'make test'.
#
#   scripts/ghz-compare.sh [CALLS_C1] [CALLS_C64]
#
# Needs ghz on PATH or in $(go env GOPATH)/bin
# (go install github.com/bojand/ghz/cmd/ghz@latest). The client CPU per call
# is each whole process's user+sys time divided by its calls (start-up
# included for both); rpcbench's own in-window figure is printed beside it.
# Both clients use one connection and the .proto file (no reflection).
# PIN=1 runs the server on CPU 0 and each tool on CPU 1, as the harness
# pins a cell, so that neither tool's own CPU takes the server's.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${1:-20000}
N64=${2:-100000}
GHZ=$(command -v ghz || echo "$(go env GOPATH)/bin/ghz")
[ -x "$GHZ" ] || { echo "ghz-compare: ghz not found (go install github.com/bojand/ghz/cmd/ghz@latest)" >&2; exit 2; }
srv_cpu="" tool_cpu=""
if [ "${PIN:-}" = 1 ]; then srv_cpu="taskset -c 0" tool_cpu="taskset -c 1"; fi
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/rpcbench" ./cmd/rpcbench
$srv_cpu "$tmp/rpcbench" greeter-server --grpc 127.0.0.1:0 --http "" >"$tmp/server.out" &
server=$!
for _ in $(seq 50); do grep -q "serving grpc" "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/.*serving grpc on \([^ ]*\).*/\1/p' "$tmp/server.out")
[ -n "$addr" ] || { echo "ghz-compare: greeter-server did not start" >&2; exit 1; }
proto=targets/greeter/greetpb/greet.proto
call=greet.v1.Greeter/SayHello
data='{"name":"bench","tags":["a","b"]}'
TIMEFORMAT='%U %S'

printf '%-8s %-5s %12s %10s %16s %22s\n' tool c "calls/s" "p50" "CPU µs/call" "(in-window CPU µs/call)"
for c in 1 64; do
	n=$N1; [ "$c" = 64 ] && n=$N64
	# Warm the server up so that neither tool meets a cold one.
	$tool_cpu "$GHZ" --insecure --proto "$proto" --call "$call" -d "$data" -c 8 -n 5000 --connections 1 "$addr" >/dev/null
	{ time $tool_cpu "$GHZ" --insecure --proto "$proto" --call "$call" -d "$data" -c "$c" -n "$n" --connections 1 -O json "$addr" >"$tmp/ghz.json"; } 2>"$tmp/ghz.time"
	{ time $tool_cpu "$tmp/rpcbench" bench --target "grpc://$addr" --proto "$proto" --call "$call" --data "$data" \
		--concurrency "$c" --conns 1 --calls "$n" --warmup 0s --progress never --pin off --out "$tmp/rb-$c" >/dev/null; } 2>"$tmp/rb.time"
	python3 - "$c" "$n" "$tmp/ghz.json" "$tmp/ghz.time" "$tmp/rb-$c/results.json" "$tmp/rb.time" <<'PY'
import json, sys
c, n, gj, gt, rj, rt = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
def cpu(path):
    u, s = open(path).read().split()[-2:]
    return (float(u) + float(s)) / n * 1e6
g = json.load(open(gj))
p50 = next(d["latency"] for d in g["latencyDistribution"] if d["percentage"] == 50)
print("%-8s %-5s %12.0f %9.0fµs %16.2f %22s" % ("ghz", c, g["rps"], p50 / 1e3, cpu(gt), "-"))
r = json.load(open(rj))
m = r["cells"][0]["merged"]
print("%-8s %-5s %12.0f %9.0fµs %16.2f %22.2f" % ("rpcbench", c, m["throughput"]["median"], m["latency"]["p50_ns"] / 1e3, cpu(rt), m["per_call"]["client_cpu_ns"] / 1e3))
PY
done
