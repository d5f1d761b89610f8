#!/usr/bin/env bash
# One shard of a grid (the `shard` job of bench.yml): runs the shard against the checkout's own
# results/, so runs whose records are already committed are skipped, then collects the records
# it added into COLLECT_DIR for upload.
#   GRID=leaderboard SHARD=3/8 COLLECT_DIR=new-records [BACKEND=tensorflow] run-grid-shard.sh
set -euo pipefail
here=$(dirname "$0")
# shellcheck source=SCRIPTDIR/lib.sh
source "$here/lib.sh"

require_grid "${GRID:-}"
require_shard "${SHARD:-}"
[[ -z ${BACKEND:-} ]] || require_slug backend "$BACKEND"
results=$(realpath -m "${RESULTS_DIR:-results}")
mkdir -p "$results"

args=(--grid "$GRID" --shard "$SHARD" --out "$results")
[[ -z ${BACKEND:-} ]] || args+=(--backend "$BACKEND")
status=0
bench "${args[@]}" || status=$?

# Records of the runs that finished are kept even when others failed (exit 1).
RESULTS_DIR=$results "$here/collect-new-records.sh" "${COLLECT_DIR:?set COLLECT_DIR}"
exit "$status"
