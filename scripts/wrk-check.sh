#!/bin/sh
# wrk-check.sh: cross-checks the harness against wrk, a load tool written
# elsewhere. wrk (Debian package wrk; scripts/setup.sh does not install it,
# apt-get install -y wrk) and 'rpcbench bench --server' each drive one
# 'rpcbench serve --transport http1' with the 64-byte raw echo (POST
# /rpc/Echo.Echo, Content-Type application/octet-stream), client pinned to
# CPU 0 and server to CPU 1 as the harness pins them, at 1 and 64
# connections (rpcbench's HTTP/1.1 client keeps one keep-alive connection
# per call in flight, so concurrency N is N connections, as wrk -cN). It
# prints both throughputs and p50s and their ratios; the harness should be
# within 10% of wrk. Not part of make test; run it on a quiet machine.
#
# The two tools alternate in ROUNDS rounds per connection count (ABBA:
# wrk first in rounds 1 and 4, rpcbench first in 2 and 3, ...); the last
# lines give the medians over the rounds and the median (min–max) of the
# per-round ratios.
#
# usage: [ROUNDS=6] scripts/wrk-check.sh [DURATION]   (default 5s)
set -eu
dur=${1:-5s}
rounds=${ROUNDS:-6}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk-check: wrk is not installed (apt-get install -y wrk)" >&2; exit 2; }
command -v taskset >/dev/null || { echo "wrk-check: taskset is not installed (util-linux)" >&2; exit 2; }
go build -o bin/rpcbench ./cmd/rpcbench
tmp=$(mktemp -d /tmp/wrkcheck.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
token=wrkcheck-$$
taskset -c 1 env RPCBENCH_ADMIN_TOKEN="$token" bin/rpcbench serve --admin --transport http1 --addr "$addr" >"$tmp/serve.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
i=0
until grep -q "serving http1 on" "$tmp/serve.log"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "wrk-check: server did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
	sleep 0.05
done
cat >"$tmp/echo64.lua" <<'LUA'
wrk.method = "POST"
wrk.body = string.rep("x", 64)
wrk.headers["Content-Type"] = "application/octet-stream"
LUA
# toNs converts wrk's and rpcbench's durations (123.45us, 1.2ms, 0.8s,
# 123.4µs) to nanoseconds.
toNs() {
	echo "$1" | sed 's/µ/u/' | awk '{ v = $1; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		f = (u == "ns") ? 1 : (u == "us") ? 1e3 : (u == "ms") ? 1e6 : (u == "s") ? 1e9 : -1; printf "%.0f\n", v * f }'
}
# toRate converts 12.3k / 1.2M / 1234.56 to calls per second.
toRate() {
	echo "$1" | awk '{ v = $1; m = 1; if (v ~ /k$/) m = 1e3; if (v ~ /M$/) m = 1e6; sub(/[kM]$/, "", v); printf "%.0f\n", v * m }'
}
# wrkRun C / rbRun C: one run at C connections; appends "tool C rate p50ns"
# to $tmp/rows.
wrkRun() {
	w=$(taskset -c 0 wrk -t1 -c"$1" -d"$dur" --latency -s "$tmp/echo64.lua" "http://$addr/rpc/Echo.Echo")
	if echo "$w" | grep -q "Non-2xx"; then
		echo "wrk-check: wrk got non-2xx replies at $1 connections:" >&2
		echo "$w" >&2
		exit 1
	fi
	wrate=$(echo "$w" | awk '/^Requests\/sec:/ { print $2 }')
	[ -n "$wrate" ] || { echo "wrk-check: no figures from wrk at $1 connections:" >&2; echo "$w" >&2; exit 1; }
	echo "wrk $1 $wrate $(toNs "$(echo "$w" | awk '$1 == "50%" { print $2 }')") $(toNs "$(echo "$w" | awk '$1 == "Latency" && $2 != "Distribution" { print $2 }')")" >>"$tmp/rows"
}
rbRun() {
	r=$(taskset -c 0 bin/rpcbench bench --admin-token "$token" --server "http1://$addr" --transport http1 --codec raw --payload 'Bytes(64)' \
		--concurrency "$1" --duration "$dur" --pin off --progress never)
	rrate=$(toRate "$(echo "$r" | awk '$1 == "throughput" { print $2 }')")
	[ "$rrate" -gt 0 ] || { echo "wrk-check: no figures from rpcbench at $1 connections:" >&2; echo "$r" >&2; exit 1; }
	echo "rpcbench $1 $rrate $(toNs "$(echo "$r" | awk '$1 == "latency" { print $3 }')") $(toNs "$(echo "$r" | awk '$1 == "latency" { for (i = 1; i < NF; i++) if ($i == "mean") print $(i + 1) }')")" >>"$tmp/rows"
}
: >"$tmp/rows"
for c in 1 64; do
	for i in $(seq 1 "$rounds"); do
		case $((i % 4)) in
		1 | 0) wrkRun "$c"; rbRun "$c" ;;
		*) rbRun "$c"; wrkRun "$c" ;;
		esac
		tail -2 "$tmp/rows" | sed "s/^/round $i: /" >&2
	done
done
python3 - "$tmp/rows" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
print("%-6s %14s %12s %14s %12s %22s %22s" % ("conns", "wrk calls/s", "wrk p50", "rpcbench c/s", "rpcbench p50", "tput × (min–max)", "p50 × (min–max)"))
for c in sorted({r[1] for r in rows}, key=int):
    w = [r for r in rows if r[0] == "wrk" and r[1] == c]
    b = [r for r in rows if r[0] == "rpcbench" and r[1] == c]
    tr = sorted(float(y[2]) / float(x[2]) for x, y in zip(w, b))
    lr = sorted(float(y[3]) / float(x[3]) for x, y in zip(w, b))
    print("%-6s %14.0f %10.1fµs %14.0f %10.1fµs %8.2f (%.2f–%.2f) %8.2f (%.2f–%.2f)" % (c,
        st.median(float(x[2]) for x in w), st.median(float(x[3]) for x in w) / 1e3,
        st.median(float(y[2]) for y in b), st.median(float(y[3]) for y in b) / 1e3,
        st.median(tr), tr[0], tr[-1], st.median(lr), lr[0], lr[-1]))
print("(× is rpcbench over wrk, per round: throughput near 1, p50 near 1 mean the harness agrees with wrk)")
# Little's law: with every connection always busy, mean latency × rate /
# connections is the share of each connection's cycle that a tool's
# latency covers. 1.0 means it times the whole call as its caller sees it.
print()
print("%-6s %28s %28s" % ("conns", "wrk mean latency (cycle %)", "rpcbench mean (cycle %)"))
for c in sorted({r[1] for r in rows}, key=int):
    def cov(tool):
        rs = [r for r in rows if r[0] == tool and r[1] == c]
        return st.median(float(r[4]) for r in rs) / 1e3, st.median(float(r[4]) * float(r[2]) / 1e9 / int(c) for r in rs) * 100
    (wm, wc), (bm, bc) = cov("wrk"), cov("rpcbench")
    print("%-6s %18.1fµs (%3.0f%%) %18.1fµs (%3.0f%%)" % (c, wm, wc, bm, bc))
print("(cycle % = mean latency × calls/s ÷ connections; under 100% the tool leaves part of each cycle, its own time between a reply and the next request, out of its latency)")
PY
