#!/usr/bin/env bash
# Alternates the PyTorch peer and this engine back to back, N rounds per setting, and prints one
# line per run (load average, side, setting, tokens/s). One-thread settings use CPU-time clocks on
# both sides (fair on a shared machine); two-thread settings use wall time.
#   bash packages/core/src/backend/bench/compare.sh [rounds=3] [peer=/work/shared/peers/torch_gpt.py]
set -u
ROUNDS=${1:-3}
PEER=${2:-/work/shared/peers/torch_gpt.py}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../../.." && pwd)
tps() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['tokens_per_s'])" 2>/dev/null || echo fail; }
load() { cut -d' ' -f1 /proc/loadavg; }
run() { # threads clock mode-args...
  local th=$1 clock=$2; shift 2
  local label="threads=$th clock=$clock ${*:-full}"
  for ((i = 1; i <= ROUNDS; i++)); do
    if [ "$clock" = cpu ]; then
      p=$(OPENBLAS_NUM_THREADS=$th /usr/bin/python3 "$HERE/peer_cpu_clock.py" "$PEER" --minsec 4 "$@" | tps)
    else
      p=$(OPENBLAS_NUM_THREADS=$th /usr/bin/python3 "$PEER" --minsec 4 "$@" | tps)
    fi
    echo "load=$(load) peer   $label: $p"
    o=$(cd "$ROOT" && OPENBLAS_NUM_THREADS=$th npx tsx "$HERE/gpt_step.ts" --backend "${BACKEND:-wasm-blas}" --threads "$th" --clock "$clock" --minsec 4 "$@" 2>/dev/null | tps)
    echo "load=$(load) tfjs   $label: $o"
  done
}
run 1 cpu
run 1 cpu --lora 8 --targets q,v
run 2 wall
run 2 wall --lora 8 --targets q,v
