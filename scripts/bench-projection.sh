#!/usr/bin/env bash
# Benchmark: embed 2,000 bbc-news rows with all-MiniLM-L6-v2 (max length 128, mean pooling) and project
# them to 2D by PCA — ours through the app's Embeddings page (frame times while it runs) and through the
# CLI, PyTorch + transformers + numpy in the same run. Writes benchmarks/projection-DATE.json.
# Needs: scripts/fetch-fixtures.sh, ../shared/data/bbc-news, and a Python with torch + transformers
# (PYTHON, default /work/venv-ref/bin/python; see tests/reference/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-2000}"
PYTHON="${PYTHON:-/work/venv-ref/bin/python}"
DATA="${LMW_SHARED_DATA:-../shared/data}/bbc-news/train.csv"
bash scripts/fetch-fixtures.sh
cargo build --release --locked --bin lm-workbench --example projection_frame_time
export ROWS
app=$(target/release/examples/projection_frame_time | tr -d '\n')
t0=$(date +%s.%N)
target/release/lm-workbench embed --model fixtures/all-minilm-l6-v2 --data "$DATA" --limit "$ROWS" \
    --max-length 128 --project pca --json > target/bench/projection-cli.json
t1=$(date +%s.%N)
torch=$("$PYTHON" scripts/bench_embed_torch.py fixtures/all-minilm-l6-v2 "$DATA" "$ROWS" "$(nproc)")
mkdir -p benchmarks
out="benchmarks/projection-$(date +%Y-%m-%d).json"
python3 - "$out" "$app" "$t0" "$t1" "$torch" <<'PY'
import json, sys
out, app, t0, t1, torch = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5])
cli = json.load(open("target/bench/projection-cli.json"))
ours_cli = {"rows": len(cli["points"]), "seconds": t1 - t0, "explained_variance_ratio": cli["explained_variance_ratio"]}
result = {"app": app, "cli": ours_cli, "torch": torch,
          "ratio_cli_vs_torch_rows_per_sec": (ours_cli["rows"] / ours_cli["seconds"]) / torch["rows_per_sec"]}
json.dump(result, open(out, "w"), indent=2)
print(json.dumps(result, indent=2))
PY
