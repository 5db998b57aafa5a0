#!/usr/bin/env bash
# The spiking circuit on both engines, seeds 1-5: task 2 (moons, examples/circuit_moons.toml)
# and task 1 (teacher-student, examples/circuit_teacher_student.toml), spiking defaults, one
# final test pass (checkpoints = 1). The event engine's task-1 runs include the output-only
# control (its acceptance compares with it); the stepped runs skip the controls. One JSON summary
# per run in OUT (default bench/circuit/engines/results); summarise with summarise.py.
# Usage, from the repository root after `make build`: bench/circuit/engines/run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${1:-bench/circuit/engines/results}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for task in moons ts; do
  config=examples/circuit_moons.toml
  [ "$task" = ts ] && config=examples/circuit_teacher_student.toml
  for seed in 1 2 3 4 5; do
    for engine in event stepped; do
      control=false
      [ "$task" = ts ] && [ "$engine" = event ] && control=true
      json="$out/${task}_${engine}_s${seed}.json"
      [ -s "$json" ] && continue
      build/settle run "$config" --set circuit.mode=spiking --set circuit.engine=$engine --set seed=$seed \
        --set training.checkpoints=1 --set training.control_output_only=$control --set training.control_frozen=false \
        -o "$tmp/run.h5" --force -q | tail -1 > "$json"
    done
  done
done
