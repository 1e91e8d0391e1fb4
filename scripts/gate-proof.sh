#!/usr/bin/env bash
# gate-proof.sh proves the regression gate both ways on this machine, the
# way `make gate` runs it: the gate spec, then `rpcbench gate` against the
# committed baseline (with its confirming re-runs).
#
#   1. N runs of the unchanged tree, one after the other: every one must
#      pass (a failure is a false alarm);
#   2. K runs with a fixed delay per call injected into the servers
#      (RPCBENCH_INJECT=delay=200us) and K with one extra allocation and
#      copy of each reply (RPCBENCH_INJECT=copy=1): every one must fail,
#      naming the cells and metrics that regressed.
#
# usage: scripts/gate-proof.sh [-n N] [-k K] [-b BASELINE] [-o DIR]
#   -n N         unchanged runs (default 5)
#   -k K         runs per injection (default 3)
#   -b BASELINE  the baseline to gate against (default results/baseline)
#   -o DIR       where the runs go (default results/gate-proof-<UTC time>)
# Exit status 0 when there was no false alarm and no miss. About 1.5 min
# per run on a 2-core machine: 15–20 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

n=5 k=3 baseline=results/baseline out=""
while getopts "n:k:b:o:" opt; do
	case $opt in
	n) n=$OPTARG ;;
	k) k=$OPTARG ;;
	b) baseline=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
out=${out:-results/gate-proof-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
bin=$out/rpcbench
go build -o "$bin" ./cmd/rpcbench
summary=$out/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

# one NAME INJECT EXPECT: a gate-spec run and its gate; EXPECT is pass or
# fail. Prints the gate's headline and regressions.
false_alarms=0 misses=0
one() {
	local name=$1 inject=$2 expect=$3 dir=$out/$1 status=0 start=$SECONDS
	RPCBENCH_INJECT=$inject "$bin" bench --matrix specs/gate.yaml --out "$dir" --results "$out" --progress never >"$dir.bench.log" 2>&1 ||
		{ say "$name: bench failed (see $dir.bench.log)"; return 1; }
	RPCBENCH_INJECT=$inject "$bin" gate --baseline "$baseline" --markdown "$dir/gate.md" "$dir" >"$dir.gate.txt" 2>"$dir.gate.err" || status=$?
	local verdict=pass
	[ "$status" -eq 1 ] && verdict=fail
	[ "$status" -gt 1 ] && { say "$name: gate error $status: $(cat "$dir.gate.err")"; return 1; }
	local mark=ok
	if [ "$verdict" != "$expect" ]; then
		if [ "$expect" = pass ]; then mark="FALSE ALARM"; false_alarms=$((false_alarms + 1)); else mark="MISSED"; misses=$((misses + 1)); fi
	fi
	say "$name (RPCBENCH_INJECT=${inject:-none}, $((SECONDS - start))s): $mark — $(head -1 "$dir.gate.txt")"
	grep -q "re-running" "$dir.gate.err" && say "    (timing regressions were re-run beside their references to confirm)"
	# The regressions, one line per metric, under their cell.
	sed -n '/^REGRESSIONS$/,/^$/p' "$dir.gate.txt" | sed '1d;/^$/d' | cut -c1-160 | sed 's/^/    /' | tee -a "$summary"
	grep '^  noise, not failing' "$dir.gate.txt" | cut -c1-160 | sed 's/^  /    /' | tee -a "$summary" || true
}

say "gate proof: baseline $baseline, $n unchanged runs, $k runs per injection, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$n"); do one "unchanged-$i" "" pass; done
for i in $(seq 1 "$k"); do one "delay-$i" "delay=200us" fail; done
for i in $(seq 1 "$k"); do one "copy-$i" "copy=1" fail; done
say "false alarms: $false_alarms of $n unchanged runs; missed: $misses of $((2 * k)) injected runs (load now $(cut -d' ' -f1-3 /proc/loadavg))"
say "runs, gate reports (gate.txt, gate.md) and this summary: $out"
[ "$false_alarms" -eq 0 ] && [ "$misses" -eq 0 ]
