#!/usr/bin/env bash
# ab-binaries.sh: an A/B of two rpcbench binaries on the default spec's tcp
# and http1 echo cells (raw 64 B and proto Small, concurrency 1 and 64,
# 2 s each), alternating runs in ABBA order, then per cell the medians of
# each binary and the median (min–max) of the per-pair new/old ratios of
# throughput. Build the old binary from an older commit first:
#
#   git worktree add --detach /tmp/old COMMIT && (cd /tmp/old && go build -o /tmp/rpcbench-old ./cmd/rpcbench)
#   go build -o /tmp/rpcbench-new ./cmd/rpcbench
#   scripts/ab-binaries.sh /tmp/rpcbench-old /tmp/rpcbench-new [PAIRS] [OUT]
#
# Each side's runs are then pooled into one run of PAIRS repetitions
# (OUT/old, OUT/new, by 'rpcbench baseline') and compared with
# 'rpcbench compare': interleaved, the two sides share the host's drift,
# which two runs made one after the other do not (scripts/detect-proof.sh
# -i measures the difference).
#
# SPEC=FILE runs that spec's cells instead (one repetition per run).
# PAIRS defaults to 6; OUT (default a temporary directory) keeps the runs.
# Run it on a quiet machine. Not part of make test.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,20p' "$0"; exit 2; }
old=$1 new=$2 pairs=${3:-6} out=${4:-$(mktemp -d /tmp/ab.XXXXXX)}
mkdir -p "$out"
spec=${SPEC:-$out/ab.yaml}
cat >"$out/ab.yaml" <<'YAML'
name: ab
description: A/B of two binaries on the default spec's tcp and http1 echo cells.
repetitions: 1
warmup: 500ms
duration: 2s
reference: transport=tcp/codec=proto/compression=none/payload=Small/conc=64/conns=1/load=closed
groups:
  - name: echo
    dimensions:
      transport: [tcp, http1]
      codec: [raw]
      payload: [Bytes(64)]
      concurrency: [1, 64]
  - name: proto
    dimensions:
      transport: [tcp, http1]
      codec: [proto]
      payload: [Small]
      concurrency: [1, 64]
YAML
for i in $(seq 1 "$pairs"); do
	order="old new"; [ $((i % 2)) -eq 0 ] && order="new old"
	for b in $order; do
		bin=$old; [ "$b" = new ] && bin=$new
		"$bin" bench --matrix "$spec" --reps 1 --out "$out/$b-$i" --results "$out" --progress never >"$out/$b-$i.log" 2>&1 ||
			{ echo "ab: $b run $i failed, see $out/$b-$i.log" >&2; exit 1; }
		echo "$(date +%T) $b-$i done" >&2
	done
done
python3 - "$out" <<'PY'
import glob, json, re, statistics as st, sys
runs = {}
for f in glob.glob(sys.argv[1] + '/*-*/results.json'):
    b, i = re.search(r'/(old|new)-(\d+)/results\.json$', f).groups()
    for c in json.load(open(f))['cells']:
        if c['status'] != 'ok' or c['params']['transport']['name'] == 'noop':
            continue
        m = c['merged']; pc = m['per_call']
        runs.setdefault(c['key'], {}).setdefault(i, {})[b] = (
            m['throughput']['median'], m['latency']['p50_ns'] / 1e3, (pc['client_cpu_ns'] + pc['server_cpu_ns']) / 1e3)
print('| cell | old calls/s | new calls/s | new/old per pair, median (min–max) | p50 µs old / new | CPU µs/call old / new |')
print('|---|---:|---:|---|---|---|')
for k in sorted(runs):
    pairs = [v for v in runs[k].values() if 'old' in v and 'new' in v]
    if not pairs:
        continue
    r = [p['new'][0] / p['old'][0] for p in pairs]
    med = lambda b, j: st.median(p[b][j] for p in pairs)
    short = re.sub(r'/compression=none|/conns=1|/load=closed', '', k)
    print(f"| {short} | {med('old',0)/1e3:.1f}k | {med('new',0)/1e3:.1f}k | {st.median(r):.2f} ({min(r):.2f}–{max(r):.2f}) n={len(r)} | {med('old',1):.0f} / {med('new',1):.0f} | {med('old',2):.1f} / {med('new',2):.1f} |")
PY
"$new" baseline --out "$out/old" $(seq -f "$out/old-%g" 1 "$pairs") >/dev/null
"$new" baseline --out "$out/new" $(seq -f "$out/new-%g" 1 "$pairs") >/dev/null
echo
"$new" compare "$out/old" "$out/new"
echo "(runs in $out; pooled in $out/old and $out/new)"
