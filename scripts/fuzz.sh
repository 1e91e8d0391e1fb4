#!/bin/sh
# Runs every fuzz target in the module, FUZZTIME each (default 20s): the
# targets are listed by 'go test -list', so new ones are included without
# editing this file. Every target runs; the failures are listed at the end.
# FUZZSHARD=i/n runs only every n-th target from the i-th (0-based), so n
# shards with FUZZPARALLEL=1 share the cores in 1/n of the time.
set -eu
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
FUZZSHARD=${FUZZSHARD:-0/1}
shard=${FUZZSHARD%/*} shards=${FUZZSHARD#*/}
parallel=${FUZZPARALLEL:+-parallel $FUZZPARALLEL}
# A package whose tests do not build lists no targets: that must fail the
# run, not shrink it.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if ! $GO test -list '^Fuzz' ./... >"$list" 2>&1 || grep -q '^FAIL' "$list"; then
	grep -v -e '^Fuzz' -e '^ok' "$list" >&2
	echo "fuzz: listing the targets failed (go test -list above)" >&2
	exit 1
fi
targets=$(awk '/^Fuzz/ { t = t " " $1; next } /^ok/ { for (i = split(t, a, " "); i > 0; i--) print $2, a[i]; t = "" }' "$list")
[ -n "$targets" ] || { echo "fuzz: no targets found" >&2; exit 1; }
failed="" i=-1
while read -r pkg target; do
	i=$((i + 1))
	[ $((i % shards)) -eq "$shard" ] || continue
	echo "== $pkg $target ($FUZZTIME)"
	# shellcheck disable=SC2086 # $parallel is empty or two words
	$GO test "$pkg" -run '^$' $parallel -fuzz "^$target\$" -fuzztime "$FUZZTIME" || failed="$failed $pkg.$target"
done <<EOF
$targets
EOF
[ -z "$failed" ] || { echo "fuzz: FAILED:$failed" >&2; exit 1; }
