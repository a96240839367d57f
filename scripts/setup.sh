#!/usr/bin/env bash
# Create .venv at the project root and install the project with everything it needs.
# Safe to re-run: what is already installed is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

# Every version comes from requirements.lock (scripts/lock.sh writes it, README: "Dependencies"),
# so a fresh clone installs what main was tested with, whatever has been released since.
# torch first, pinned in pyproject.toml and out of the lock, as its build is per machine (the CPU
# wheel where pip finds one, else PyPI's); the lock pins its own dependencies. Anything that asks
# for torch later finds it satisfied instead of pulling the (much larger) CUDA build.
pip install --constraint requirements.lock torch==2.13.0
# quaterion-models declares Python <3.11 though its code runs on 3.11: only this one package
# ignores the Python requirement, and it brings no dependencies of its own beyond torch/numpy.
pip install --no-deps --ignore-requires-python quaterion-models==0.1.19
# --no-deps: the lock is the whole set; pip check below proves that it is complete and agrees with
# pyproject.toml, rather than letting pip fill a gap with whatever version is newest today.
pip install --no-deps --requirement requirements.lock
pip install --no-deps -e .
# quaterion-models' numpy<2 is the one requirement known to be unmet: its code runs on numpy 2.
broken=$(.venv/bin/python -m pip check 2>&1 \
  | grep -v -e '^quaterion-models 0.1.19 has requirement numpy' -e '^No broken requirements' || true)
if [ -n "$broken" ]; then
  printf 'setup: the installed set does not hold together:\n%s\n' "$broken" >&2
  echo "setup: does requirements.lock match pyproject.toml? Run ./scripts/lock.sh (README: Dependencies)" >&2
  exit 1
fi
# jemalloc keeps the service's memory steady under load (service/allocator.py); without it the
# service runs on glibc's malloc, so a machine where it cannot be installed still works.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q libjemalloc; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq libjemalloc2 >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq libjemalloc2 >/dev/null; } \
      || echo "setup: could not install libjemalloc2; the service will use glibc malloc" >&2
  else
    echo "setup: libjemalloc2 not installed (apt-get install libjemalloc2): memory may creep" >&2
  fi
fi
# The console's browser tests drive Debian's Chromium through Playwright; Playwright's own browser
# download is never used (it cannot be fetched on the test machines).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } \
      || echo "setup: could not install chromium; the console's browser tests will fail" >&2
  else
    echo "setup: chromium not installed (apt-get install chromium): the browser tests need it" >&2
  fi
fi
echo "setup: .venv ready ($(.venv/bin/python --version))"
