#!/usr/bin/env bash
# Validation runs of the rate references' acceptance table (bench/mlp/RESULTS.md): each config x
# seed, one run at a time.
# Usage: bench/mlp/run_validation.sh EPOCHS "SEEDS" CONFIG...   (from the repository root)
#   e.g. bench/mlp/run_validation.sh 10 "1 2 3" bp dtp fa tp dtp_discrete ste_bp
# Writes bench/mlp/results/<config>_e<EPOCHS>_s<seed>.json (summary with metrics) and .log
# (per-epoch lines); summarise with bench/mlp/summarise.py. Uses build/bench/mlp/mlp_bench, which
# makes the same library call as `settle run` (build it: cmake --build build --target mlp_bench -j1).
set -euo pipefail
epochs=$1; seeds=$2; shift 2
bin=${MLP_BENCH:-build/bench/mlp/mlp_bench}
out=bench/mlp/results
mkdir -p "$out"
for cfg in "$@"; do
  for s in $seeds; do
    tag="${cfg}_e${epochs}_s${s}"
    [[ -s "$out/$tag.json" ]] && { echo "skip $tag (done)"; continue; }
    echo "run $tag $(date -u +%H:%M:%S)"
    "$bin" "examples/fmnist_${cfg}.toml" --seed "$s" --set "train.epochs=$epochs" \
      --json "$out/$tag.json" > /dev/null 2> "$out/$tag.log"
  done
done
