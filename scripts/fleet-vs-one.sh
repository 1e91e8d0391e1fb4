#!/bin/sh
# fleet-vs-one.sh: one load process at concurrency 64 against three fleet
# workers at 21+21+22 ('bench --workers'), the same server, interleaved
# over REPS repetitions (the order alternating), with the medians of
# throughput and p99 side by side, and the fleet's coordination cost per
# cell (publish to last upload) and start spread across the workers.
#
# Everything on loopback: a throwaway etcd, 'rpcbench serve', the workers
# and the load all share this host's CPUs, so the comparison says what
# the coordination costs, not what more hosts would add. Not part of make
# test.
#
# usage: scripts/fleet-vs-one.sh [REPS] [DURATION] [TRANSPORT]   (default 6 2s tcp)
set -eu
reps=${1:-6}
dur=${2:-2s}
transport=${3:-tcp}
cd "$(dirname "$0")/.."
go build -o bin/rpcbench ./cmd/rpcbench
command -v etcd >/dev/null || { echo "no etcd: apt-get install etcd-server (scripts/setup.sh does)" >&2; exit 1; }
out=$(mktemp -d /tmp/fleetvsone.XXXXXX)
echo "output in $out"
base=$((20000 + $$ % 20000))
eport=$base; pport=$((base + 1)); sport=$((base + 2))
pids=""
trap 'kill $pids 2>/dev/null || true' EXIT INT TERM
etcd --name fvo --data-dir "$out/etcd" --listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
	--listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	--initial-cluster "fvo=http://127.0.0.1:$pport" --log-level error --logger zap >"$out/etcd.log" 2>&1 &
pids="$pids $!"
token=fleet-vs-one
bin/rpcbench serve --admin --admin-token $token --transport "$transport" --addr "127.0.0.1:$sport" >"$out/serve.log" 2>&1 &
pids="$pids $!"
sleep 1
url="etcd://127.0.0.1:$eport/fleet-vs-one"
cell="--server $transport://127.0.0.1:$sport --admin-token $token --transport $transport --codec proto --payload Small --concurrency 64 --warmup 300ms --duration $dur --progress never"
one() { bin/rpcbench bench $cell --out "$out/one-$1" >/dev/null; }
fleet() {
	ws=""
	for w in w1 w2 w3; do
		bin/rpcbench worker --coordinator "$url" --name $w --admin-token $token >>"$out/worker-$w.log" 2>&1 &
		ws="$ws $!"
	done
	bin/rpcbench bench $cell --workers "$url" --expect 3 --out "$out/fleet-$1" >/dev/null
	wait $ws # the workers exit when the run ends
}
i=1
while [ $i -le "$reps" ]; do
	if [ $((i % 2)) -eq 1 ]; then one $i; fleet $i; else fleet $i; one $i; fi
	echo "repetition $i of $reps done"
	i=$((i + 1))
done
# The measured cell's figures of each run, then medians.
fig() { jq -r '.cells[] | select(.params.transport.name != "noop") | .reps[0] | [.figures.throughput, .figures.latency.p99_ns, (.fleet.coordination_ns // 0), (.fleet.start_spread_ns // 0)] | @tsv' "$1/results.json"; }
for k in one fleet; do
	for d in "$out"/$k-*; do fig "$d"; done >"$out/$k.tsv"
done
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f\n", m }'; }
col() { cut -f"$2" "$out/$1.tsv" | median; }
echo
echo "$transport, proto, Small, $reps interleaved repetitions of $dur, medians (all processes on this host):"
printf '%-28s %10s %10s\n' "" "calls/s" "p99 µs"
printf '%-28s %10s %10s\n' "one process, concurrency 64" "$(col one 1)" "$(($(col one 2) / 1000))"
printf '%-28s %10s %10s\n' "3 workers, 21+21+22" "$(col fleet 1)" "$(($(col fleet 2) / 1000))"
echo "fleet coordination per cell (publish to last upload, warm-up 300ms and window $dur included): median $(($(col fleet 3) / 1000000)) ms"
echo "fleet start spread across the 3 workers: median $(($(col fleet 4) / 1000)) µs, max $(($(cut -f4 "$out/fleet.tsv" | sort -g | tail -1) / 1000)) µs"
