#!/usr/bin/env bash
# Set up, then run every check CI runs: lint, types, the test suite, the container files.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
echo "== dependency lock"
./scripts/lock.sh --check
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy faq_core training indexer service feedback backup bench
echo "== containers"
./scripts/check_containers.sh
echo "== tests"
# Every test, the slow ones included (the daily loop's quick tier is `pytest -m "not slow"`).
.venv/bin/python -m pytest "$@"
