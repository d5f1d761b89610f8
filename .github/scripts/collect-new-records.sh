#!/usr/bin/env bash
# Copies the run records that a bench run added to the results directory (files git does not
# track yet) into DEST, the directory uploaded as the job's artifact. Records already committed
# are never uploaded again.
#   RESULTS_DIR=results collect-new-records.sh DEST
set -euo pipefail

dest=${1:?usage: collect-new-records.sh DEST}
results=${RESULTS_DIR:-results}
mkdir -p "$dest"
count=0
while IFS= read -r -d '' file; do
  cp -- "$results/$file" "$dest/"
  count=$((count + 1))
done < <(git -C "$results" ls-files -z --others --exclude-standard -- '*.json')
echo "collected $count new record(s) into $dest"
