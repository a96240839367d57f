#!/usr/bin/env bash
# Puts torch's CPU wheel (the build without CUDA libraries) into DIR, for the dependency lock
# (scripts/lock.sh) and for image builds on machines that cannot reach the PyTorch index
# (scripts/check_images.sh): the wheel pip's own configuration already finds on this machine (its
# find-links, no index), else the one on the PyTorch CPU index. Never PyPI's torch, whose Linux
# wheel pulls gigabytes of nvidia-* packages.
# Usage: scripts/torch_cpu_wheel.sh DIR      (TORCH_VERSION, default 2.13.0: pyproject.toml's pin)
set -euo pipefail

dir=${1:?usage: $0 DIR}
version=${TORCH_VERSION:-2.13.0}
mkdir -p "$dir"
if compgen -G "$dir/torch-$version+cpu-cp311-*.whl" >/dev/null; then
    exit 0
fi
# The images and the lock are for CPython 3.11 on x86-64 Linux, whatever runs this script.
target=(--only-binary :all: --python-version 3.11 --implementation cp --platform manylinux_2_28_x86_64)
if python3 -m pip download --quiet --no-deps --no-index "${target[@]}" --dest "$dir" \
    "torch==$version+cpu" 2>/dev/null; then
    exit 0
fi
python3 -m pip download --quiet --no-deps "${target[@]}" --dest "$dir" \
    --index-url https://download.pytorch.org/whl/cpu "torch==$version+cpu" || {
    echo "torch_cpu_wheel: no CPU wheel of torch $version: not in pip's find-links here, and the" \
        "PyTorch CPU index (https://download.pytorch.org/whl/cpu) cannot be reached" >&2
    exit 1
}
