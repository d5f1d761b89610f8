#!/usr/bin/env bash
# The runs of one method in a grid (the `pr-bench` job of bench.yml), against the checkout's
# results/ so finished runs are skipped; the records it adds are collected into COLLECT_DIR.
#   METHOD=my-method GRID=leaderboard COLLECT_DIR=new-records [BACKEND=tensorflow] run-method.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$here/lib.sh"

require_slug method "${METHOD:-}"
require_grid "${GRID:-}"
[[ -z ${BACKEND:-} ]] || require_slug backend "$BACKEND"
project=$(realpath "${PROJECT_DIR:-$PWD}")
results=$(realpath -m "${RESULTS_DIR:-results}")
mkdir -p "$results"

grid_file=$GRID
[[ $GRID == *.y*ml ]] || grid_file=packages/bench/grids/$GRID.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$project" && node "$here/method-grid.mjs" "$grid_file" "$METHOD" "$work/grid.yaml")

args=(--grid "$work/grid.yaml" --out "$results")
[[ -z ${BACKEND:-} ]] || args+=(--backend "$BACKEND")
status=0
bench "${args[@]}" || status=$?

RESULTS_DIR=$results "$here/collect-new-records.sh" "${COLLECT_DIR:?set COLLECT_DIR}"
exit "$status"
