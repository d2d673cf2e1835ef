#!/usr/bin/env bash
# Runs the app: installs what a fresh machine lacks, then builds and opens LM Workbench.
# It starts with a built-in demo tokenizer, so no network is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec cargo run --locked --release -- "$@"
