#!/bin/sh
# Runs every fuzz target in the module, FUZZTIME each (default 20s): the
# targets are listed by 'go test -list', so new ones are included without
# editing this file. Every target runs; the failures are listed at the end.
set -eu
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
targets=$($GO test -list '^Fuzz' ./... | awk '/^Fuzz/ { t = t " " $1; next } /^ok/ { for (i = split(t, a, " "); i > 0; i--) print $2, a[i]; t = "" }')
[ -n "$targets" ] || { echo "fuzz: no targets found" >&2; exit 1; }
failed=""
while read -r pkg target; do
	echo "== $pkg $target ($FUZZTIME)"
	$GO test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" || failed="$failed $pkg.$target"
done <<EOF
$targets
EOF
[ -z "$failed" ] || { echo "fuzz: FAILED:$failed" >&2; exit 1; }
