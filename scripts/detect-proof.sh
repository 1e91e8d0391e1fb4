#!/usr/bin/env bash
# detect-proof.sh measures what `rpcbench compare` and `rpcbench gate` can
# see, with the reduced spec specs/detect.yaml (TCP and HTTP/1.1 cells
# beside tcp-echo references, six repetitions each):
#
#   1. N pairs of runs of the unchanged tree: every cell compare flags is a
#      false alarm (want ≤ 5%), every gate failure too;
#   2. N pairs in which the second run's servers of one transport (-t,
#      default http1) busy-wait about 5% of a call's time per call, and N
#      pairs with about 15%: how many times compare (and the gate) flag the
#      slowed cells (want ≥ 8 of 10 at 15%).
#
# The slowdown is RPCBENCH_INJECT=spin=D confined to that transport's
# server processes by RPCBENCH_INJECT_TRANSPORT; D is calibrated from a
# first unchanged run: 5% and 15% of the median p50 of the transport's
# concurrency-1 cell (a spin, not a sleep: a sleep cannot be shorter than
# tens of microseconds). The table gives, per level and cell, how often
# compare flagged its throughput and its p50 (Mann-Whitney U, p < 0.05)
# and the median change measured, then how often the gate failed.
#
# With -i R, each side of a pair is instead R runs of one repetition,
# alternating with the other side's in ABBA order and pooled by
# `rpcbench baseline` into one run of R repetitions: the two sides then
# share the host's slow drift (seconds to minutes on a shared machine),
# which separate runs do not. This is how to compare two trees on a
# noisy host (and what `scripts/ab-binaries.sh` does for two binaries).
#
# usage: scripts/detect-proof.sh [-n N] [-l LEVELS] [-t TRANSPORT] [-i R] [-o DIR] [-T]
#   -n N          pairs per level (default 10)
#   -l LEVELS     the slowdowns to run, of 0, 5 and 15 (default "0 5 15";
#                 "0" alone measures false alarms only, in a third of the time)
#   -t TRANSPORT  the transport to slow (default http1)
#   -i R          interleave: R alternating runs of one repetition per side
#   -o DIR        where the runs go (default results/detect-proof-<UTC time>)
#   -T            only print the table again from the runs in DIR
# About 1 minute per pair, 2 with a gate's confirming re-run, on a 2-core
# machine: 30–60 minutes with N=10. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

n=10 slow=http1 out="" table_only="" levels="0 5 15" rounds=""
while getopts "n:l:t:i:o:T" opt; do
	case $opt in
	n) n=$OPTARG ;;
	l) levels=$OPTARG ;;
	t) slow=$OPTARG ;;
	i) rounds=$OPTARG ;;
	o) out=$OPTARG ;;
	T) table_only=1 ;;
	*) sed -n '2,30p' "$0"; exit 2 ;;
	esac
done
out=${out:-results/detect-proof-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
rows=$out/rows.txt
spec=specs/detect.yaml
if [ -z "$table_only" ]; then
bin=$out/rpcbench
go build -o "$bin" ./cmd/rpcbench

# bench DIR [INJECT [FLAGS...]]: one run of the spec, INJECT confined to
# $slow.
bench() {
	local dir=$1 inject=${2:-}
	shift; shift || true
	RPCBENCH_INJECT=$inject RPCBENCH_INJECT_TRANSPORT=$slow \
		"$bin" bench --matrix "$spec" --out "$dir" --results "$out" --progress never "$@" >"$dir.log" 2>&1 ||
		{ echo "bench failed, see $dir.log" >&2; exit 1; }
}

# pair A B INJECT: the unchanged run A and the run B with INJECT, made
# one after the other, or with -i interleaved round by round and pooled.
pair() {
	local a=$1 b=$2 inject=$3 r
	if [ -z "$rounds" ]; then
		bench "$a"
		bench "$b" "$inject"
		return
	fi
	mkdir -p "$a.rounds" "$b.rounds"
	for r in $(seq 1 "$rounds"); do
		if [ $((r % 4)) = 1 ] || [ $((r % 4)) = 0 ]; then
			bench "$a.rounds/$r" "" --reps 1
			bench "$b.rounds/$r" "$inject" --reps 1
		else
			bench "$b.rounds/$r" "$inject" --reps 1
			bench "$a.rounds/$r" "" --reps 1
		fi
	done
	"$bin" baseline --out "$a" $(seq -f "$a.rounds/%g" 1 "$rounds") >/dev/null
	"$bin" baseline --out "$b" $(seq -f "$b.rounds/%g" 1 "$rounds") >/dev/null
}

# Calibration: the slowed transport's per-call time at one caller.
bench "$out/calibrate"
p50=$(jq --arg t "$slow" '[.cells[] | select(.params.transport.name == $t and .params.concurrency == 1) | .reps[].figures.latency.p50_ns] | sort | .[length / 2 | floor]' "$out/calibrate/results.json")
[ "$p50" != null ] || { echo "no $slow cell at concurrency 1 in $spec" >&2; exit 1; }
spin5=$((p50 * 5 / 100))ns spin15=$((p50 * 15 / 100))ns
echo "calibration: $slow c=1 p50 ${p50} ns → spin ${spin5} (5%), ${spin15} (15%)"
echo "n=$n slow=$slow p50=$p50 spin5=$spin5 spin15=$spin15 rounds=$rounds" >"$out/calibration.env"

# flags FILE: from a compare --format markdown, one line per row of the
# throughput and p50 tables: metric, cell, flagged (0 no, 1 significantly
# worse, 2 significantly better), and the change of the medians (new/old −
# 1), flagged or not.
flags() {
	awk -F'|' '
		function num(s,   v) {
			gsub(/[ `]/, "", s); v = s + 0
			if (s ~ /k$/) v *= 1e3; else if (s ~ /M$/) v *= 1e6
			else if (s ~ /µs$/) v *= 1e3; else if (s ~ /ms$/) v *= 1e6; else if (s ~ /[0-9]s$/) v *= 1e9
			return v
		}
		/^### / { metric = ($0 ~ /^### throughput/) ? "throughput" : ($0 ~ /^### latency p50/) ? "p50" : ""; next }
		/^\| `/ && metric != "" {
			cell = $2; gsub(/[` ]/, "", cell); d = $5; gsub(/ /, "", d)
			o = num($3); n = num($4)
			worse = (metric == "throughput") ? n < o : n > o
			printf "%s %s %d %s\n", metric, cell, (d == "~" ? 0 : worse ? 1 : 2), (o > 0 ? sprintf("%.4f", n / o - 1) : "nan")
		}' "$1"
}

: >"$rows"
for level in $levels; do
	inject=""
	[ "$level" = 5 ] && inject=spin=$spin5
	[ "$level" = 15 ] && inject=spin=$spin15
	for i in $(seq 1 "$n"); do
		a=$out/l$level-$i-a b=$out/l$level-$i-b
		pair "$a" "$b" "$inject"
		"$bin" compare --metrics throughput,p50 --format markdown "$a" "$b" >"$b.compare.md"
		flags "$b.compare.md" | while read -r m cell f d; do
			echo "$level $i compare $m $cell $f $d" >>"$rows"
		done
		status=0
		RPCBENCH_INJECT=$inject RPCBENCH_INJECT_TRANSPORT=$slow \
			"$bin" gate --baseline "$a" "$b" >"$b.gate.txt" 2>"$b.gate.err" || status=$?
		[ "$status" -gt 1 ] && { echo "gate error: $(cat "$b.gate.err")" >&2; exit 1; }
		sed -n '/^REGRESSIONS$/,/^$/p' "$b.gate.txt" | grep -E '^  transport=' | sed 's/^  //' >"$b.gate.cells" || true
		echo "$level $i gate any - $status -" >>"$rows"
		while read -r key; do echo "$level $i gate cell $key 1 -" >>"$rows"; done <"$b.gate.cells"
		echo "level ${level}% pair $i done (gate exit $status)"
	done
done
fi
. "$out/calibration.env"

# The table.
{
	echo
	echo "detect-proof: $n pairs per level${rounds:+, each side $rounds interleaved runs of one repetition}, spec $spec, slowed transport $slow (spin ${spin5} ≈ 5%, ${spin15} ≈ 15% of its c=1 p50 ${p50} ns)"
	echo
	echo "compare: pairs in which the cell's throughput or p50 changed significantly (worse / either way); median change over the pairs"
	printf "%-6s %-30s %-7s %-22s %-22s %-12s %-12s\n" level cell slowed "throughput flagged" "p50 flagged" "median Δthr" "median Δp50"
	awk -v slow="$slow" '
		$3 == "compare" {
			k = $1 SUBSEP $5; cells[k] = 1; n[k, $4]++; f[k, $4] += ($6 > 0); w[k, $4] += ($6 == 1)
			if ($7 != "" && $7 != "nan") { v[k, $4, ++nv[k, $4]] = $7 }
		}
		function med(k, m,   i, j, t, c, a) {
			c = nv[k, m]; if (!c) return "–"
			for (i = 1; i <= c; i++) a[i] = v[k, m, i]
			for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return sprintf("%+.1f%%", 100 * (c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2))
		}
		END {
			for (k in cells) {
				split(k, p, SUBSEP); lvl = p[1]; cell = p[2]
				slowed = (lvl > 0 && index(cell, "transport=" slow "/") == 1) ? "yes" : "no"
				printf "%d\t%s\t%-6s %-30s %-7s %-22s %-22s %-12s %-12s\n", lvl, cell, lvl "%", cell, slowed,
					w[k, "throughput"] + 0 " / " f[k, "throughput"] + 0 " of " n[k, "throughput"] + 0, w[k, "p50"] + 0 " / " f[k, "p50"] + 0 " of " n[k, "p50"] + 0,
					med(k, "throughput"), med(k, "p50")
			}
		}' "$rows" | sort -t"$(printf '\t')" -k1,1n -k2,2 | cut -f3
	echo
	echo "compare, per cell and pair: flagged if throughput or p50 changed significantly (false alarm: either way; detection: worse)"
	awk -v slow="$slow" '
		$3 == "compare" { k = $1 SUBSEP $2 SUBSEP $5; s = (index($5, "transport=" slow "/") == 1) && $1 > 0; grp[k] = $1 "% " (s ? "slowed" : "unslowed")
			if ($6 > 0) any[k] = 1; if ($6 == 1) worse[k] = 1 }
		END { for (k in grp) { tot[grp[k]]++; fa[grp[k]] += any[k]; de[grp[k]] += worse[k] }
		      for (g in tot) if (g ~ /unslowed/) printf "  level %-14s %d of %d cell-pairs flagged (false alarms)\n", g ":", fa[g], tot[g]
		                     else printf "  level %-14s %d of %d cell-pairs flagged slower (detections)\n", g ":", de[g], tot[g] }' "$rows" | sort -n -k2
	echo "gate:"
	awk -v slow="$slow" '
		$3 == "gate" && $4 == "any" { runs[$1]++; if ($6 == 1) failed[$1]++ }
		$3 == "gate" && $4 == "cell" { if (index($5, "transport=" slow "/") == 1) hs[$1]++; else ho[$1]++ }
		END { for (l in runs) printf "  level %s%%: %d of %d gates failed; regressions named in slowed cells %d, in other cells %d\n", l, failed[l] + 0, runs[l], hs[l] + 0, ho[l] + 0 }' "$rows" | sort -n -k2
} | tee "$out/table.txt"
