#!/usr/bin/env bash
# Regenerates screenshots/*.png (every page of the real app, rendered by wgpu on the CPU through
# egui_kittest, with all-MiniLM-L6-v2 loaded).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-fixtures.sh
LMW_WRITE_SCREENSHOTS=1 cargo test --locked --test screenshots
ls -l screenshots/
