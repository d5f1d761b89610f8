# shellcheck shell=bash
# Shared checks for the workflow scripts (sourced, not run). Every value that comes from a
# workflow input, a matrix or a pull request reaches a script through the environment and is
# checked here before any command sees it.

fail_input() {
  echo "error: $1" >&2
  exit 2
}

# A method id or grid name: lowercase letters, digits and dashes, as the registries use.
require_slug() {
  local name=$1 value=$2
  [[ $value =~ ^[a-z0-9][a-z0-9-]{0,63}$ ]] ||
    fail_input "$name \"$value\" is not an id: use lowercase letters, digits and dashes (e.g. lora, my-method)."
}

# A reviewed commit: the full 40-hex SHA, so what runs is exactly what was reviewed.
require_sha() {
  local name=$1 value=$2
  [[ $value =~ ^[0-9a-f]{40}$ ]] ||
    fail_input "$name \"$value\" is not a full commit SHA: give the 40 lowercase hex digits of the reviewed commit."
}

# A grid: a name from packages/bench/grids/ or the path of a YAML grid file.
require_grid() {
  local value=$1
  if [[ $value =~ ^[a-z0-9][a-z0-9-]{0,63}$ ]]; then return 0; fi
  [[ $value =~ ^/?[A-Za-z0-9_][A-Za-z0-9_./-]*\.ya?ml$ && $value != *..* ]] ||
    fail_input "grid \"$value\" is neither a grid name (e.g. leaderboard) nor the path of a .yaml file."
}

# A shard of a grid: i/n with 1 <= i <= n.
require_shard() {
  local value=$1
  if [[ $value =~ ^([1-9][0-9]{0,3})/([1-9][0-9]{0,3})$ ]] && ((BASH_REMATCH[1] <= BASH_REMATCH[2])); then
    return 0
  fi
  fail_input "shard \"$value\" is not i/n with 1 <= i <= n (e.g. 3/8)."
}

require_count() {
  local name=$1 value=$2
  [[ $value =~ ^[1-9][0-9]{0,3}$ ]] || fail_input "$name \"$value\" is not a positive whole number (e.g. 8)."
}

# Runs the bench CLI of the project checkout (PROJECT_DIR, default: the current directory).
bench() {
  pnpm --silent --dir "${PROJECT_DIR:-$PWD}" bench "$@"
}

# True when this checkout's CLI has `pnpm bench verify`.
has_verify() {
  bench --help 2>/dev/null | grep -Eq '^  verify( |$)'
}
