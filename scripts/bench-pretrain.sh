#!/usr/bin/env bash
# Pre-training benchmark (not part of the tests), the talk's second experiment on this machine's CPU:
# a WordPiece tokenizer (vocab 8,000, trained by `lm-workbench train-tokenizer` on
# ../shared/data/gutenberg-novels/train.txt), then a BERT built from a config (preset 2×128) pre-trained
# as a masked LM on the text cut into blocks of 128 tokens — once by our CLI, once by PyTorch +
# transformers (scripts/bench_pretrain_torch.py) with the same tokenizer folder, data, chunking, masking,
# optimiser, schedule and budget. Reports the held-out masked perplexity on valid.txt at each
# evaluation for both, the unigram baseline (every token predicted by its training frequency) and
# tokens/s. Writes target/bench/pretrain.json and prints a markdown table for BENCHMARKS.md.
#
# Settings (environment, defaults in brackets): PRESET [2x128]  VOCAB [8000]  CHUNK [128]
#   BATCH_SIZE [32]  LR [1e-3]  MAX_STEPS [600]  EVAL_STEPS [200]  WARMUP_RATIO [0.1]  SEED [42]
#   DROPOUT [0.1]  UNIGRAM_BIAS [0; 1: the output bias starts at the log training frequencies]
#   THREADS [unset: each library's default]  TORCH_PYTHON [../venv-ref/bin/python or python3]
#   LMW_SHARED_DATA [../shared/data]  SKIP_BUILD [0]  OUT_NAME [pretrain: target/bench/pretrain/, …json]
#   OURS_ONLY [0; 1: skip PyTorch (a sweep of our settings): our perplexities and tokens/s only]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PRESET=${PRESET:-2x128}; VOCAB=${VOCAB:-8000}; CHUNK=${CHUNK:-128}; BATCH_SIZE=${BATCH_SIZE:-32}; LR=${LR:-1e-3}
MAX_STEPS=${MAX_STEPS:-600}; EVAL_STEPS=${EVAL_STEPS:-200}; WARMUP_RATIO=${WARMUP_RATIO:-0.1}; SEED=${SEED:-42}
DROPOUT=${DROPOUT:-0.1}; UNIGRAM_BIAS=${UNIGRAM_BIAS:-0}
if [ "$UNIGRAM_BIAS" = 1 ]; then ours_bias=true; torch_bias=(--unigram-output-bias); else ours_bias=false; torch_bias=(); fi
DATA=${LMW_SHARED_DATA:-$root/../shared/data}/gutenberg-novels
[ -f "$DATA/train.txt" ] || { echo "bench-pretrain: $DATA/train.txt is missing" >&2; exit 1; }
if [ -z "${TORCH_PYTHON:-}" ]; then
  if [ -x "$root/../venv-ref/bin/python" ]; then TORCH_PYTHON="$root/../venv-ref/bin/python"; else TORCH_PYTHON=python3; fi
fi
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --locked --bin lm-workbench >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/lm-workbench"
out="${CARGO_TARGET_DIR:-$root/target}/bench/${OUT_NAME:-pretrain}"
rm -rf "$out"; mkdir -p "$out"
if [ -n "${THREADS:-}" ]; then export RAYON_NUM_THREADS=$THREADS; fi

echo "bench-pretrain: tokenizer (vocab $VOCAB)" >&2
start=$(date +%s.%N)
"$bin" train-tokenizer --data "$DATA/train.txt" --vocab-size "$VOCAB" --out "$out/tokenizer" --json > "$out/tokenizer.json"
tok_secs=$(echo "$(date +%s.%N) - $start" | bc)

echo "bench-pretrain: ours, preset:$PRESET, $MAX_STEPS steps" >&2
"$bin" train --task mlm --model "preset:$PRESET" --tokenizer "$out/tokenizer" --data "$DATA" --chunk-size "$CHUNK" \
  --batch-size "$BATCH_SIZE" --lr "$LR" --max-steps "$MAX_STEPS" --eval-steps "$EVAL_STEPS" --warmup-ratio "$WARMUP_RATIO" \
  --weight-decay 0.01 --seed "$SEED" --dropout "$DROPOUT" --unigram-output-bias "$ours_bias" --device cpu --out "$out/runs" --run-name ours \
  --json > "$out/ours-summary.json"

if [ "${OURS_ONLY:-0}" != 1 ]; then
  echo "bench-pretrain: PyTorch, same settings" >&2
  layers=${PRESET%x*}; hidden=${PRESET#*x}
  "$TORCH_PYTHON" scripts/bench_pretrain_torch.py --tokenizer "$out/tokenizer" --train "$DATA/train.txt" --valid "$DATA/valid.txt" \
    --layers "$layers" --hidden "$hidden" --chunk "$CHUNK" --batch-size "$BATCH_SIZE" --lr "$LR" --max-steps "$MAX_STEPS" \
    --eval-steps "$EVAL_STEPS" --warmup-ratio "$WARMUP_RATIO" --seed "$SEED" --dropout "$DROPOUT" "${torch_bias[@]}" \
    ${THREADS:+--threads "$THREADS"} > "$out/pytorch.json"
fi

python3 - "$out" "$tok_secs" <<'PY'
import json, math, os, sys
out, tok_secs = sys.argv[1], float(sys.argv[2])
# OURS_ONLY=1: no PyTorch run.
torch = json.load(open(f"{out}/pytorch.json")) if os.path.exists(f"{out}/pytorch.json") else None
steps, evals = [], []
for line in open(f"{out}/runs/ours/metrics.jsonl"):
    r = json.loads(line)
    if r["type"] == "step":
        steps.append(r)
    elif r["type"] == "evaluation" and r["split"] == "validation":
        evals.append({"step": r["step"], "loss": r["loss"], "perplexity": math.exp(r["loss"]), "accuracy": r["accuracy"]})
batch = json.load(open(f"{out}/runs/ours/config.json"))["batch_size"]
# Each step trains one batch: its time is batch / samples_per_sec (evaluations excluded, as PyTorch's).
times = [batch / s["samples_per_sec"] for s in steps]
ours_tps = sum(s["tokens_per_sec"] * t for s, t in zip(steps, times)) / sum(times)
tok = json.load(open(f"{out}/tokenizer.json"))
result = {"tokenizer": {"vocab_size": tok["vocab_size"], "secs": tok_secs, "coverage": tok["coverage"]},
          "unigram_perplexity": torch["unigram_perplexity"] if torch else None,
          "ours": {"evaluations": evals, "tokens_per_sec": ours_tps}, "pytorch": torch}
json.dump(result, open(f"{out}.json", "w"), indent=1)
if torch is None:
    print(f"tokenizer: {tok['vocab_size']} tokens in {tok_secs:.1f} s")
    print("| step | ours perplexity | ours masked acc |")
    print("|---:|---:|---:|")
    for o in evals:
        print(f"| {o['step']} | {o['perplexity']:.1f} | {o['accuracy']:.3f} |")
    print(f"tokens/s: ours {ours_tps:.0f}")
    sys.exit(0)
print(f"tokenizer: {tok['vocab_size']} tokens in {tok_secs:.1f} s; unigram baseline perplexity {torch['unigram_perplexity']:.1f}")
print("| step | ours perplexity | PyTorch perplexity | ours / PyTorch | ours masked acc | PyTorch masked acc |")
print("|---:|---:|---:|---:|---:|---:|")
for o, t in zip(evals, torch["evaluations"]):
    print(f"| {o['step']} | {o['perplexity']:.1f} | {t['perplexity']:.1f} | {o['perplexity'] / t['perplexity']:.3f} | {o['accuracy']:.3f} | {t['accuracy']:.3f} |")
print(f"tokens/s: ours {ours_tps:.0f}, PyTorch {torch['tokens_per_sec']:.0f} ({ours_tps / torch['tokens_per_sec']:.2f}×)")
PY
