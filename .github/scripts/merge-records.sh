#!/usr/bin/env bash
# The merge job of bench.yml, run in a checkout of the branch the records go to: verifies the
# downloaded records, adds the new ones to results/, commits, and pushes. The branch moves while
# a grid runs for hours, so each attempt first rebases onto it (`git pull --rebase`); a bounded
# number of attempts, then the job fails and the records stay in the run's artifacts.
#   merge-records.sh INCOMING_DIR
# Environment: GRID (the grid the records come from), METHOD and REF (an approved pull-request
# benchmark), BRANCH (default main), REMOTE (default origin), MAX_ATTEMPTS (default 5),
# RETRY_DELAY (seconds, default 15), GIT_PUSH_TOKEN (the job's token; used for this script's git
# commands only, never written to .git/config), RESULTS_DIR (default results).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$here/lib.sh"

incoming=${1:?usage: merge-records.sh INCOMING_DIR}
branch=${BRANCH:-main}
remote=${REMOTE:-origin}
[[ $branch =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*$ ]] || fail_input "branch \"$branch\" is not a branch name."
[[ $remote =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fail_input "remote \"$remote\" is not a remote name."
require_grid "${GRID:-}"
subject="results: $GRID grid"
if [[ -n ${METHOD:-} ]]; then
  require_slug method "$METHOD"
  require_sha ref "${REF:-}"
  subject="results: $METHOD on the $GRID grid (commit ${REF:0:12})"
fi
attempts=${MAX_ATTEMPTS:-5}
delay=${RETRY_DELAY:-15}
require_count MAX_ATTEMPTS "$attempts"
[[ $delay =~ ^[0-9]{1,4}$ ]] || fail_input "RETRY_DELAY \"$delay\" is not a number of seconds."
results=$(realpath -m "${RESULTS_DIR:-results}")

output() {
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "$1" >> "$GITHUB_OUTPUT"; fi
}

if [[ -n ${GIT_PUSH_TOKEN:-} ]]; then
  auth=$(printf 'x-access-token:%s' "$GIT_PUSH_TOKEN" | base64 -w0)
  echo "::add-mask::$auth"
  export GIT_CONFIG_COUNT=1
  export GIT_CONFIG_KEY_0=http.https://github.com/.extraheader
  export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth"
fi

files=()
if [[ -d $incoming ]]; then
  while IFS= read -r -d '' file; do files+=("$file"); done < <(find "$incoming" -type f -name '*.json' -print0 | sort -z)
fi
if ((${#files[@]} == 0)); then
  echo "no records came back: nothing to merge"
  output pushed=false
  exit 0
fi
echo "verifying ${#files[@]} record(s)"
"$here/verify-records.sh" "${files[@]}"

git config user.name "peft-bench"
git config user.email "peft-bench@users.noreply.github.com"
# The checkout may be a detached HEAD (a commit SHA): work on a local branch of the target name.
git checkout -q -B "$branch"

# Adds the records not yet in results/ and commits them; false when none is new.
commit_records() {
  bench import "$(realpath "$incoming")" --out "$results" || exit 1
  git add -- "$results" || exit 1
  if git diff --cached --quiet; then return 1; fi
  local count
  count=$(git diff --cached --name-only | wc -l)
  git commit -q -m "$subject ($count records)" || exit 1
  echo "committed $count record(s): $(git log -1 --format=%s)"
}

if ! commit_records; then
  echo "every record is already in results/: nothing to commit"
  output pushed=false
  exit 0
fi

for ((attempt = 1; attempt <= attempts; attempt++)); do
  if ! git pull -q --rebase "$remote" "$branch"; then
    # Only a record with the same run id added meanwhile can conflict: start again from the
    # branch as it is now, and keep what is already there.
    git rebase --abort 2>/dev/null || true
    git fetch -q "$remote" "$branch"
    git reset -q --hard FETCH_HEAD
    if ! commit_records; then
      echo "the branch already has every record: nothing to push"
      output pushed=false
      exit 0
    fi
  fi
  if git push -q "$remote" "HEAD:refs/heads/$branch"; then
    echo "pushed $(git rev-parse --short HEAD) to $remote/$branch (attempt $attempt)"
    output pushed=true
    exit 0
  fi
  echo "push rejected (attempt $attempt of $attempts): $branch moved; retrying in ${delay}s" >&2
  sleep "$((delay * attempt))"
done
echo "error: could not push to $remote/$branch after $attempts attempts; the records are in this run's artifacts" >&2
exit 1
