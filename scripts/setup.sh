#!/usr/bin/env bash
# Create .venv at the project root and install the project with everything it needs.
# Safe to re-run: what is already installed is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

# torch first, pinned: anything that asks for torch later finds it satisfied instead of pulling
# the (much larger) CUDA build.
pip install torch==2.13.0
# quaterion-models declares Python <3.11 though its code runs on 3.11: only this one package
# ignores the Python requirement, and it brings no dependencies of its own beyond torch/numpy.
pip install --no-deps --ignore-requires-python quaterion-models==0.1.19
pip install -e ".[service,train,dev]"
echo "setup: .venv ready ($(.venv/bin/python --version))"
