#!/usr/bin/env bash
# Reproduces the demo encoder shipped in assets/demo-encoder/ (the model behind `builtin:demo`):
# the demo data from scripts/make_demo_headlines.py, then this project's own masked-LM training of a
# small BERT (2 layers, hidden 64, the demo vocabulary, random start) on assets/demo_pretrain.txt —
# 6,000 unlabelled headlines, none of them in the labelled demo set. About a minute on two cores.
#
#   bash scripts/make-demo-encoder.sh            # writes assets/demo-encoder/
#   bash scripts/make-demo-encoder.sh OUT_DIR    # writes OUT_DIR instead (to compare with the shipped one)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-assets/demo-encoder}"
python3 scripts/make_demo_headlines.py
cargo build --release --locked --bin lm-workbench
bin="${CARGO_TARGET_DIR:-target}/release/lm-workbench"
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
# One thread: the same weights on every run on a CPU of the same kind (gemm splits its sums by thread
# count and vector width).
RAYON_NUM_THREADS=1 "$bin" train --task mlm --model builtin:tiny --data assets/demo_pretrain.txt \
  --lr 2e-3 --epochs 20 --batch-size 32 --max-length 48 --warmup-ratio 0.06 --unigram-output-bias false \
  --validation-fraction 0.05 --seed 42 --device cpu --out "$runs" --run-name demo-encoder --json | tail -n 1
mkdir -p "$out"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json; do
  cp "$runs/demo-encoder/checkpoints/last/$f" "$out/$f"
done
echo "wrote $out"
