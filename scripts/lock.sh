#!/usr/bin/env bash
# Writes requirements.lock: every package the project installs (pyproject.toml's dependencies and
# its service, train and dev extras), each at one exact version, resolved for CPython 3.11 on
# x86-64 Linux. setup.sh, CI and both images install from it.
#   ./scripts/lock.sh                                   add what pyproject.toml gained; keep the rest
#   ./scripts/lock.sh --upgrade-package transformers    move one package (and what it needs)
#   ./scripts/lock.sh --upgrade                         move everything to the newest allowed
#   ./scripts/lock.sh --check                           fail if the lock is not what pyproject.toml
#                                                       makes of it (CI: scripts/test.sh)
# Two packages stay out of the lock, and are pinned where they are installed:
#   torch              its build is per machine (CPU or CUDA); the lock is resolved against the
#                      CPU wheel, so torch's own dependencies are pinned and no nvidia-* is.
#   quaterion-models   its metadata claims Python <3.11 (setup.sh and the Dockerfile install it
#                      alone, without its metadata checks).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/uv ]]; then
    echo "lock: no .venv/bin/uv; run ./scripts/setup.sh first (uv is in the dev extra)" >&2
    exit 2
fi
wheels=${TORCH_WHEEL_DIR:-var/wheels}
./scripts/torch_cpu_wheel.sh "$wheels"
compile() { # OUTPUT [uv options]: uv keeps the versions OUTPUT already names, where it can
    local output=$1
    shift
    # --native-tls: the system's trust store, where a proxy's CA would be.
    .venv/bin/uv pip compile pyproject.toml \
        --extra service --extra train --extra dev \
        --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
        --find-links "$wheels" --no-emit-package torch \
        --native-tls --quiet \
        --custom-compile-command ./scripts/lock.sh \
        --output-file "$output" "$@"
}
if [[ ${1:-} == --check ]]; then
    fresh=$(mktemp)
    trap 'rm -f "$fresh"' EXIT
    cp requirements.lock "$fresh"
    compile "$fresh"
    if ! diff -u requirements.lock "$fresh"; then
        echo "lock: requirements.lock is not what pyproject.toml makes of it (the diff above)." \
            "Run ./scripts/lock.sh and commit requirements.lock." >&2
        exit 1
    fi
    echo "lock: requirements.lock matches pyproject.toml"
    exit 0
fi
compile requirements.lock "$@"
echo "lock: requirements.lock written ($(grep -c '==' requirements.lock) packages)"
