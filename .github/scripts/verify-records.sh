#!/usr/bin/env bash
# Verifies run records with `pnpm bench verify` (exit 1, with path and reason, when any fails):
#   verify-records.sh FILE...                   the given records
#   verify-records.sh --changed-since BASE_REF  every record under results/ changed since BASE_REF
# A checkout whose CLI has no `verify` command yet gets the schema check of `pnpm bench import`
# instead, which catches corrupt and foreign files but not a forged score.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

if has_verify; then
  # pnpm runs the CLI from the workspace root, so paths are made absolute first.
  args=()
  for arg in "$@"; do
    if [[ -e $arg ]]; then args+=("$(realpath -- "$arg")"); else args+=("$arg"); fi
  done
  bench verify "${args[@]}"
  exit
fi

echo "note: this checkout's CLI has no 'pnpm bench verify'; checking the records against the schema only" >&2
if [[ ${1:-} == --changed-since ]]; then
  base=${2:?--changed-since needs a git ref}
  files=()
  while IFS= read -r -d '' file; do files+=("$file"); done \
    < <(git diff -z --name-only --diff-filter=AMR "$base"...HEAD -- 'results/*.json')
else
  files=("$@")
fi
if ((${#files[@]} == 0)); then
  echo "no records to verify"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
n=0
for file in "${files[@]}"; do
  # Numbered copies keep every file apart even when two share a name.
  n=$((n + 1))
  cp -- "$file" "$work/in/$(printf '%06d' "$n")-$(basename "$file")"
done
bench import "$work/in" --out "$work/out" 2> "$work/errors" || true
if [[ -s $work/errors ]]; then
  sed "s|$work/in/[0-9]*-||" "$work/errors" >&2
  exit 1
fi
echo "${#files[@]} record(s) pass the schema check"
