#!/usr/bin/env bash
# The plan job of bench.yml: the CI matrix of the grid's shards that still have runs without a
# record in the checkout's results/, written as the step output `matrix`.
#   GRID=leaderboard SHARDS=8 plan-grid.sh
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

require_grid "${GRID:-}"
require_count shards "${SHARDS:-}"
results=$(realpath -m "${RESULTS_DIR:-results}")
matrix=$(bench --grid "$GRID" --plan --shards "$SHARDS" --out "$results")
# One line of JSON: {"include":[{"shard":"3/8"},...]}; anything else is an error, not a matrix.
node -e 'const m = JSON.parse(process.argv[1]); if (!Array.isArray(m.include)) process.exit(1);' "$matrix" ||
  { echo "error: the plan printed no matrix: $matrix" >&2; exit 1; }
echo "matrix: $matrix"
if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "matrix=$matrix" >> "$GITHUB_OUTPUT"; fi
