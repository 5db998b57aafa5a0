#!/usr/bin/env bash
# The other spiking rows of docs/results.md on the event engine, seed 1: symmetric feedback
# (tasks 1 and 2), a single stream with eta / 16 (tasks 1 and 2), the narrow 10-8-2 moons, fixed
# 200 ms presentations (task 4) and one Fashion-MNIST epoch (task 3). Each run trains the circuit
# and its output-only control and ends with one test pass. One JSON summary per run in OUT
# (default bench/circuit/engines/results/rows); runs whose JSON exists are skipped.
# Usage, from the repository root after `make build`: bench/circuit/engines/rows.sh [OUT]
# SETTLE=path/to/settle uses another binary (e.g. a copy, so that a rebuild cannot change it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${1:-bench/circuit/engines/results/rows}
settle=${SETTLE:-build/settle}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ts=examples/circuit_teacher_student.toml
moons=examples/circuit_moons.toml
common=(--set circuit.mode=spiking --set circuit.engine=event --set seed=1 --set training.checkpoints=1
        --set training.control_frozen=false)
run() {  # name config [--set ...]
  local name=$1 config=$2
  shift 2
  [ -s "$out/$name.json" ] && return 0
  "$settle" run "$config" "${common[@]}" "$@" -o "$tmp/run.h5" --force -q | tail -1 > "$tmp/$name.json"
  mv "$tmp/$name.json" "$out/$name.json"
}
run ts_symmetric "$ts" --set circuit.feedback=symmetric
run moons_symmetric "$moons" --set circuit.feedback=symmetric
run ts_single_stream "$ts" --set circuit.streams=1 --set circuit.eta_hidden=1.25e-4 --set circuit.eta_out=3.125e-4
run moons_single_stream "$moons" --set circuit.streams=1 --set circuit.eta_hidden=6.25e-4 --set circuit.eta_out=3.125e-4
run ts_fixed_200ms "$ts" --set schedule.duration_min_ms=200 --set schedule.duration_max_ms=200
run moons_narrow "$moons" --set "circuit.hidden=[8]" --set training.presentations=96000 --set training.eta_final_fraction=0.1
run fmnist_1epoch examples/circuit_fmnist.toml --set training.presentations=60000 --set circuit.eta_hidden=3e-2 \
  --set training.control_output_only=false
