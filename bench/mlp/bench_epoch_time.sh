#!/usr/bin/env bash
# Seconds per epoch of the deep DTP network (examples/fmnist_dtp.toml: 784-240x7-10, batch 100,
# 50000 training images, validation and test evaluated every epoch, angles on every 10th batch).
#   1. AVX2+FMA build (the default on this machine), 1 thread
#   2. AVX2+FMA build, 2 threads
#   3. plain baseline: x86-64 (SSE2) Eigen build, 1 thread (separate build dir, -DSETTLE_MLP_AVX2=OFF)
# Usage (from the repository root): bench/mlp/bench_epoch_time.sh [EPOCHS=2]
# One run at a time; on a shared machine, other load inflates the numbers (2 threads most).
set -euo pipefail
epochs=${1:-2}
cfg=examples/fmnist_dtp.toml
run() {  # binary threads label
  local json; json=$(mktemp)
  "$1" "$cfg" --set "train.epochs=$epochs" --set "train.threads=$2" --json "$json" > /dev/null
  python3 - "$json" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["metrics"]["epoch_seconds"]
print(f"{sys.argv[2]:<34} epochs {len(s)}  s/epoch {sum(s)/len(s):6.2f}  (each: {', '.join(f'{x:.2f}' for x in s)})"
      f"  -> 100 epochs {sum(s)/len(s)*100/60:.1f} min")
PY
  rm -f "$json"
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
cmake --build build --target mlp_bench -j1 > /dev/null
run build/bench/mlp/mlp_bench 1 "AVX2+FMA, 1 thread"
run build/bench/mlp/mlp_bench 2 "AVX2+FMA, 2 threads"
if [[ ! -x build-mlp-sse/bench/mlp/mlp_bench ]]; then
  cmake -S . -B build-mlp-sse -DCMAKE_BUILD_TYPE=Release -DSETTLE_MLP_AVX2=OFF -DSETTLE_BUILD_TESTS=OFF > /dev/null
  cmake --build build-mlp-sse --target mlp_bench -j1 > /dev/null
fi
run build-mlp-sse/bench/mlp/mlp_bench 1 "baseline SSE2 Eigen, 1 thread"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
