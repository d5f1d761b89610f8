#!/usr/bin/env bash
# Checks the inputs of an approved pull-request benchmark before anything is checked out:
# the reviewed commit (full SHA), the method id and the grid.
#   REF=<40-hex sha> METHOD=my-method GRID=leaderboard check-dispatch-inputs.sh
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

require_sha ref "${REF:-}"
require_slug method "${METHOD:-}"
require_grid "${GRID:-}"
echo "benchmarking method $METHOD of commit $REF on grid $GRID"
