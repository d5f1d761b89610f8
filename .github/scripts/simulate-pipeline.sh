#!/usr/bin/env bash
# Runs the steps of bench.yml's jobs in order, with the same scripts the workflow calls, against a
# local bare repository standing in for origin:
#   1. an approved pull-request benchmark (pr-bench, then merge) of one method of the grid: its
#      checkout is a detached commit SHA, its record lands on main;
#   2. the weekly grid: plan lists the shards that still have runs; each shard runs against its
#      checkout's results/ (the run committed in 1 is skipped) and collects only the new records;
#   3. main moves twice meanwhile: a commit before the merge job starts, and one that races the
#      merge job's first push (origin rejects that push);
#   4. the merge job verifies, commits, rebases and retries until its push lands;
#   5. a tampered record makes the merge job fail and push nothing.
# Seconds-long runs on the tiny random model; exit 0 when every check passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PROJECT_DIR
PROJECT_DIR=$(cd "$here/../.." && pwd)
# Run ids then do not depend on the source tree being simulated.
export PEFT_BENCH_CODE_VERSION=pipeline-simulation
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset GITHUB_OUTPUT GIT_DIR GIT_WORK_TREE
export GIT_AUTHOR_NAME=simulation GIT_AUTHOR_EMAIL=simulation@example.invalid
export GIT_COMMITTER_NAME=simulation GIT_COMMITTER_EMAIL=simulation@example.invalid

step() { printf '\n== %s\n' "$*"; }
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; exit 1; fi
}
records_in() { find "$1" -maxdepth 1 -name '*.json' -type f | wc -l; }

cat > "$work/grid.yaml" <<'YAML'
name: pipeline-simulation
description: Seconds-long runs on the tiny random model.
defaults:
  model: tiny-random
  tasks: [nli]
  seeds: 1
  ranks: [2]
  training: { steps: 2, eval_every: 1, batch_size: 2, micro_batch_size: 2 }
  task_config: { nli: { train: 8, valid: 2, test: 2 } }
experiments:
  - name: pair
    methods: [lora, bitfit]
YAML

git init -q --bare -b main "$work/origin.git"
git clone -q "$work/origin.git" "$work/init" 2>/dev/null
(cd "$work/init" && echo "# results" > README.md && git add README.md && git commit -q -m "start" && git push -q origin HEAD:main)
reviewed=$(git -C "$work/origin.git" rev-parse main)

step "pr-bench job: method lora of commit ${reviewed:0:12}"
git clone -q "$work/origin.git" "$work/pr"
git -C "$work/pr" checkout -q --detach "$reviewed"
(
  cd "$work/pr"
  REF=$reviewed METHOD=lora GRID=$work/grid.yaml "$here/check-dispatch-inputs.sh"
  METHOD=lora GRID=$work/grid.yaml COLLECT_DIR=$work/pr-artifact "$here/run-method.sh" 2>&1 | grep -E 'grid |done:|collected'
)
check "the pull-request artifact holds the method's one record" test "$(records_in "$work/pr-artifact")" -eq 1

step "merge job of the pull-request benchmark (a detached checkout)"
git clone -q "$work/origin.git" "$work/pr-merge"
git -C "$work/pr-merge" checkout -q --detach "$reviewed"
(cd "$work/pr-merge" && GRID=pipeline-simulation METHOD=lora REF=$reviewed RETRY_DELAY=0 "$here/merge-records.sh" "$work/pr-artifact") 2>&1 | grep -E 'committed|pushed|error'
seeded=$(basename "$(find "$work/pr-artifact" -name '*.json')")
check "origin main has the method's record ($seeded)" test "$(git -C "$work/origin.git" ls-tree --name-only main results/ | wc -l)" -eq 1
check "the commit names the method and the reviewed commit" \
  test "$(git -C "$work/origin.git" log -1 --format=%s main)" = "results: lora on the pipeline-simulation grid (commit ${reviewed:0:12}) (1 records)"

# Each job checks out main as it was when the workflow started, as a detached HEAD.
start=$(git -C "$work/origin.git" rev-parse main)
checkout() {
  git clone -q "$work/origin.git" "$1"
  git -C "$1" checkout -q --detach "$start"
}

step "plan job"
checkout "$work/plan"
(cd "$work/plan" && GRID=$work/grid.yaml SHARDS=2 GITHUB_OUTPUT=$work/plan.out "$here/plan-grid.sh")
matrix=$(sed -n 's/^matrix=//p' "$work/plan.out")
mapfile -t shards < <(node -e 'for (const s of JSON.parse(process.argv[1]).include) console.log(s.shard)' "$matrix")
check "the plan lists one shard with an unfinished run (${shards[*]})" test "${#shards[@]}" -eq 1

step "main moves while the shards run"
git clone -q "$work/origin.git" "$work/other"
(cd "$work/other" && echo "a concurrent change" > NOTES.md && git add NOTES.md && git commit -q -m "a concurrent commit" && git push -q origin HEAD:main)

for i in "${!shards[@]}"; do
  step "shard job ${shards[$i]}"
  checkout "$work/shard-$i"
  (cd "$work/shard-$i" && GRID=$work/grid.yaml SHARD=${shards[$i]} COLLECT_DIR=$work/artifacts/records-$i "$here/run-grid-shard.sh") 2>&1 |
    tee "$work/shard-$i.log" | grep -E 'grid |done:|collected'
  check "the shard skipped the committed run" grep -qE ' 2 runs, 1 already finished( \(.*\))?, 1 to run' "$work/shard-$i.log"
  check "the artifact holds only the new record" test "$(records_in "$work/artifacts/records-$i")" -eq 1
  check "the committed record is not uploaded again" test ! -e "$work/artifacts/records-$i/$seeded"
done

step "merge job: the download step merges every artifact into incoming/"
checkout "$work/merge"
mkdir "$work/merge/incoming"
cp "$work"/artifacts/records-*/*.json "$work/merge/incoming/"

# origin rejects the merge job's first push, after main moved once more.
cat > "$work/origin.git/hooks/update" <<'HOOK'
#!/usr/bin/env bash
set -euo pipefail
[[ $1 == refs/heads/main && ! -e $GIT_DIR/raced ]] || exit 0
touch "$GIT_DIR/raced"
export GIT_INDEX_FILE=$GIT_DIR/race-index
git read-tree "$2"
blob=$(echo "a change pushed during the merge" | git hash-object -w --stdin)
git update-index --add --cacheinfo "100644,$blob,RACE.md"
commit=$(git commit-tree "$(git write-tree)" -p "$2" -m "a commit that races the merge")
git update-ref refs/heads/main "$commit" "$2"
echo "main moved meanwhile" >&2
exit 1
HOOK
chmod +x "$work/origin.git/hooks/update"

(cd "$work/merge" && GRID=pipeline-simulation RETRY_DELAY=0 MAX_ATTEMPTS=3 GITHUB_OUTPUT=$work/merge.out "$here/merge-records.sh" incoming) 2>&1 |
  tee "$work/merge.log" | grep -Ev '^remote: *$|^To |^ ! |^error: failed to push'
check "the first push was rejected and the retry landed" grep -q 'pushed .* (attempt 2)' "$work/merge.log"
check "the merge job reports pushed=true" grep -qx 'pushed=true' "$work/merge.out"
log=$(git -C "$work/origin.git" log --format=%s main)
printf '%s\n' "$log" | sed 's/^/  origin main: /'
check "origin main has the records on top of both concurrent commits" \
  test "$(printf '%s\n' "$log" | head -n 4 | tr '\n' '|')" = "results: pipeline-simulation grid (1 records)|a commit that races the merge|a concurrent commit|results: lora on the pipeline-simulation grid (commit ${reviewed:0:12}) (1 records)|"
check "origin main has both records" test "$(git -C "$work/origin.git" ls-tree --name-only main results/ | wc -l)" -eq 2
check "no merge commit (rebased)" test -z "$(git -C "$work/origin.git" rev-list --merges main)"

step "merge job with a tampered record"
before=$(git -C "$work/origin.git" rev-parse main)
checkout "$work/tampered"
mkdir "$work/tampered/incoming"
sed 's/"status": "ok"/"status": "excellent"/' "$work"/artifacts/records-0/*.json > "$work/tampered/incoming/$(basename "$work"/artifacts/records-0/*.json)"
status=0
(cd "$work/tampered" && GRID=pipeline-simulation RETRY_DELAY=0 "$here/merge-records.sh" incoming) > "$work/tampered.log" 2>&1 || status=$?
sed 's/^/  /' "$work/tampered.log" | head -n 5
check "the merge job fails" test "$status" -ne 0
check "origin main is unchanged" test "$(git -C "$work/origin.git" rev-parse main)" = "$before"

echo
echo "simulation passed"
