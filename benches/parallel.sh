#!/usr/bin/env bash
# Parallel speedup of CPU-bound tasks: benches/parallel.fg on 1 worker and
# on 2 (or $WORKERS) workers, median of RUNS runs each with hyperfine, and
# the ratio. Needs `cargo build --release` and hyperfine.
#
#   benches/parallel.sh            # tier: the default (VM)
#   TIER=--interp benches/parallel.sh
set -eu
cd "$(dirname "$0")/.."
FORGE=${FORGE:-target/release/forge}
RUNS=${RUNS:-10}
WORKERS=${WORKERS:-2}
TIER=${TIER:-}
prog=benches/parallel.fg
want=$("$FORGE" run $TIER "$prog")
[ "$want" = 1571344 ] || { echo "wrong result: $want" >&2; exit 1; }
median() {  # median wall ms of one configuration
  FORGE_WORKERS=$1 hyperfine -N -w 1 -r "$RUNS" --export-json /tmp/parallel.$$.json \
    "$FORGE run $TIER $prog" > /dev/null
  python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' /tmp/parallel.$$.json
}
one=$(median 1)
many=$(median "$WORKERS")
rm -f /tmp/parallel.$$.json
echo "| workers | median ms |"
echo "|---|---|"
echo "| 1 | $one |"
echo "| $WORKERS | $many |"
python3 -c "print('speedup: %.2fx' % ($one / $many))"
