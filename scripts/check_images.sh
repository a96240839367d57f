#!/usr/bin/env bash
# Builds both images and runs the whole path in them, as a user would:
#   engine    a Docker engine; where none answers, one is started (root: dockerd, see below)
#   base      python:3.11-slim-bookworm, or where no registry answers, a stand-in made from Debian's
#             packages (debootstrap: Python 3.11 of bookworm, pip in a venv on the PATH, this
#             machine's CA bundle for pip), kept as an image so that later runs reuse it
#   build     faq-answers-train:local and faq-answers-serve:local, the tags compose uses; torch
#             from the PyTorch CPU index, or where that cannot be reached, the CPU wheel pip finds
#             on this machine, served to the build on loopback (TORCH_INDEX_URL)
#   train     a small servable (faq-train --limit) in the train image, onto a models volume, as uid
#             10001, with no network
#   embedded  faq-index, then faq-serve, in the serve image on the embedded store in a volume, root
#             filesystem read-only: /readyz, /ask, a keyed POST /answers that survives a restart
#   server    the same against the Qdrant stand-in (tests/support/qdrant_standin.py) on the host
#             network
#   compose   docker compose (or docker-compose) for real: train, indexer and service as the
#             compose file has them; qdrant, whose image cannot be had here, replaced by the stand-in
#             (docker-compose.qdrant-standin.yml); 127.0.0.1:8000 and :6333 must be free
# Prints each step's time and the image sizes; stops at the first failure, with the logs of the
# container concerned. Leaves the images, and the engine it started, for inspection; removes its
# containers and volumes.
#
# Usage: scripts/check_images.sh     (as root wherever it must start the engine or make the base)
#   CHECK_DATA          the FAQ data (JSON Lines) to take the first entries of
#                       (default ../shared/data/cloud_faq/cloud_faq_dataset.jsonl, else
#                       var/data/cloud_faq_dataset.jsonl)
#   CHECK_ENTRIES       how many entries to index (default 300)
#   CHECK_TRAIN_LIMIT   faq-train --limit (default 200; with --recipe head, well under a minute)
#   PYTHON_IMAGE        a base image to use instead (skips the pull and the stand-in base)
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WORK=var/check_images
LOCAL_BASE=faq-answers-base:python3.11-bookworm
REAL_BASE=python:3.11-slim-bookworm
SERVE=faq-answers-serve:local
TRAIN=faq-answers-train:local
PREFIX=faq-check
CHECK_ENTRIES=${CHECK_ENTRIES:-300}
CHECK_TRAIN_LIMIT=${CHECK_TRAIN_LIMIT:-200}
KEY=check-images-key-$RANDOM$RANDOM

# --- output and failure ----------------------------------------------------------------------------
START=$SECONDS
STEP=""
STEP_START=$SECONDS
TIMES=()
step() {
    finish_step
    STEP=$1
    STEP_START=$SECONDS
    echo "== $STEP"
}
finish_step() {
    if [[ -n $STEP ]]; then
        TIMES+=("$(printf '%-10s %4d s' "$STEP" $((SECONDS - STEP_START)))")
        echo "   $STEP: $((SECONDS - STEP_START)) s"
    fi
    STEP=""
}
container_logs() {
    if [[ -n ${DOCKER:-} ]]; then
        local name
        for name in $("$DOCKER" ps -a --filter "name=^$PREFIX" --format '{{.Names}}' 2>/dev/null); do
            echo "--- logs of $name (last 40 lines)" >&2
            "$DOCKER" logs --tail 40 "$name" >&2 2>&1 || true
        done
    fi
}
die() {
    trap - ERR
    echo "check_images: FAILED in step '${STEP:-setup}': $*" >&2
    container_logs
    exit 1
}
on_error() {
    local status=$?
    trap - ERR
    echo "check_images: FAILED in step '${STEP:-setup}' (exit $status, line $1)" >&2
    container_logs
}
trap 'on_error $LINENO' ERR

# --- cleanup: this run's containers, volumes and index server; never the images or the engine -----
INDEX_PID=""
COMPOSE=()
cleanup() {
    if [[ ${#COMPOSE[@]} -gt 0 ]]; then
        "${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true
    fi
    if [[ -n ${DOCKER:-} ]]; then
        "$DOCKER" ps -aq --filter "name=^$PREFIX" | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
        "$DOCKER" volume ls -q --filter "name=^$PREFIX" | xargs -r "$DOCKER" volume rm >/dev/null 2>&1 || true
        "$DOCKER" network ls -q --filter "name=^$PREFIX" | xargs -r "$DOCKER" network rm >/dev/null 2>&1 || true
    fi
    if [[ -n $INDEX_PID ]]; then
        kill "$INDEX_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

as_root() {
    [[ $(id -u) -eq 0 ]] || die "$1 needs root"
}
apt_install() {
    as_root "installing $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    fi
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_is_free() {
    python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" \
        2>/dev/null
}
wait_http() { # URL SECONDS: until URL answers 2xx
    python3 - "$1" "$2" <<'PY' || die "$1 did not answer within $2 s"
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.5)
PY
}

# --- engine ----------------------------------------------------------------------------------------
step engine
# A docker CLI that builds with BuildKit: one with the buildx plugin, or one older than 23
# (Debian's docker.io), whose BuildKit client is built in. Newer ones without buildx fall back
# to the legacy builder, which would build every stage before the target.
pick_docker() {
    local candidate major
    DOCKER=""
    while read -r candidate; do
        if "$candidate" buildx version >/dev/null 2>&1; then
            DOCKER=$candidate
            return
        fi
        major=$("$candidate" --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')
        if [[ -n $major && $major -lt 23 ]]; then
            DOCKER=$candidate
            return
        fi
    done < <(which -a docker 2>/dev/null | awk '!seen[$0]++')
}
pick_docker
if [[ -z $DOCKER ]] || { ! "$DOCKER" info >/dev/null 2>&1 && ! command -v dockerd >/dev/null; }; then
    apt_install docker.io
    pick_docker
fi
[[ -n $DOCKER ]] || die "no docker CLI that builds with BuildKit (docker buildx, or Debian's docker.io)"
if ! "$DOCKER" info >/dev/null 2>&1; then
    as_root "starting a Docker engine"
    # This machine's engine, as it allows: no iptables rules and no default bridge (containers use
    # the host network, or compose's own network). Storage on overlay2 where the kernel has overlay:
    # vfs, which needs nothing of the kernel, copies the whole filesystem for every layer and every
    # container (1.5 GB each here; docs/operations.md, "Checking the images"). The engine outlives
    # this script, so that the images can be inspected after.
    start_dockerd() {
        setsid nohup dockerd --iptables=false --bridge=none --storage-driver="$1" \
            >>/var/log/faq-check-dockerd.log 2>&1 </dev/null &
        echo $! >"$WORK_ROOT/dockerd.pid"
        for _ in $(seq 60); do
            "$DOCKER" info >/dev/null 2>&1 && return 0
            kill -0 "$(cat "$WORK_ROOT/dockerd.pid")" 2>/dev/null || return 1
            sleep 1
        done
        return 1
    }
    WORK_ROOT=$(mktemp -d)
    if ! { grep -qw overlay /proc/filesystems && start_dockerd overlay2; }; then
        kill "$(cat "$WORK_ROOT/dockerd.pid")" 2>/dev/null || true
        sleep 2
        start_dockerd vfs || die "dockerd did not start; see /var/log/faq-check-dockerd.log"
    fi
    echo "   started dockerd, pid $(cat "$WORK_ROOT/dockerd.pid") (log: /var/log/faq-check-dockerd.log)"
    rm -r "$WORK_ROOT"
fi
echo "   storage driver: $("$DOCKER" info --format '{{.Driver}}')"
echo "   $("$DOCKER" version --format 'engine {{.Server.Version}}, client {{.Client.Version}}') ($DOCKER)"
if "$DOCKER" compose version >/dev/null 2>&1; then
    COMPOSE_CMD=("$DOCKER" compose)
else
    command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
    COMPOSE_CMD=(docker-compose)
fi
echo "   compose: $("${COMPOSE_CMD[@]}" version --short 2>/dev/null || echo '?') (${COMPOSE_CMD[*]})"
cleanup # a previous run's leftovers

# --- base image ------------------------------------------------------------------------------------
step base
mkdir -p "$WORK"
make_local_base() {
    as_root "making the base image"
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    # The mirror apt uses here, and its security suite where it has one.
    local sources mirror security root
    sources=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
        2>/dev/null | grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' || true)
    mirror=${DEBIAN_MIRROR:-$(grep -oE 'https?://[^ ]+' <<<"$sources" | grep -v security | head -n 1 || true)}
    mirror=${mirror:-http://deb.debian.org/debian}
    security=$(grep -oE 'https?://[^ ]+security[^ ]*' <<<"$sources" | head -n 1 || true)
    root=$(mktemp -d)/rootfs
    echo "   debootstrap bookworm from $mirror"
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" "$mirror" \
        >"$WORK/debootstrap.log" 2>&1 || die "debootstrap failed; see $WORK/debootstrap.log"
    {
        echo "deb $mirror bookworm main"
        echo "deb $mirror bookworm-updates main"
        [[ -z $security ]] || echo "deb $security bookworm-security main"
    } >"$root/etc/apt/sources.list"
    # As Debian's own slim images: apt keeps no package files or caches, dpkg no documentation.
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
    find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
    # pip inside the builds trusts what pip trusts here (a proxy's CA, if any).
    local ca
    ca=${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}
    ca=${ca:-/etc/ssl/certs/ca-certificates.crt}
    cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
    # python and pip on the PATH, as in the python image (Debian's own python3 is externally managed).
    chroot "$root" /usr/bin/python3 -m venv /opt/python
    tar -C "$root" -c . | "$DOCKER" import \
        --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' \
        - "$LOCAL_BASE" >/dev/null
    rm -rf "$(dirname "$root")"
}
if [[ -n ${PYTHON_IMAGE:-} ]]; then
    BASE=$PYTHON_IMAGE
elif "$DOCKER" image inspect "$REAL_BASE" >/dev/null 2>&1 \
    || timeout 300 "$DOCKER" pull --quiet "$REAL_BASE" >/dev/null 2>&1; then
    BASE=$REAL_BASE
else
    BASE=$LOCAL_BASE
    if "$DOCKER" image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
        echo "   $REAL_BASE cannot be pulled; the stand-in base $LOCAL_BASE is already made"
    else
        echo "   $REAL_BASE cannot be pulled; making the stand-in base $LOCAL_BASE"
        make_local_base
    fi
fi
echo "   base: $BASE"

# --- build -----------------------------------------------------------------------------------------
step build
# With vfs every layer is a whole copy of the filesystem below it: a cold build of both images
# takes about 20 GB; on overlay2 a run leaves about 5 GB (docs/operations.md, "Checking the images").
root_dir=$("$DOCKER" info --format '{{.DockerRootDir}}')
if [[ $("$DOCKER" info --format '{{.Driver}}') == vfs ]]; then need_gb=25; else need_gb=10; fi
need_gb=${CHECK_MIN_FREE_GB:-$need_gb}
free_gb=$(df --output=avail -BG "$root_dir" | tail -n 1 | tr -dc 0-9)
[[ $free_gb -ge $need_gb ]] \
    || die "$free_gb GB free under $root_dir; a build needs $need_gb (CHECK_MIN_FREE_GB)"
BUILD_ARGS=(--build-arg "PYTHON_IMAGE=$BASE")
if ! python3 -c "import urllib.request; urllib.request.urlopen('https://download.pytorch.org/whl/cpu/torch/', timeout=10)" \
    >/dev/null 2>&1; then
    # The build reaches this machine's loopback (--network host); pip takes the directory listing
    # of torch/ for the index's page of torch.
    ./scripts/torch_cpu_wheel.sh "$WORK/torch-index/torch"
    # The same port every run where it is free: the URL is a build argument of torch's layer, and
    # another value would install torch again rather than take the layer from the cache.
    port=${CHECK_TORCH_INDEX_PORT:-38611}
    port_is_free "$port" || port=$(free_port)
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/torch-index" \
        >"$WORK/torch-index.log" 2>&1 &
    INDEX_PID=$!
    wait_http "http://127.0.0.1:$port/torch/" 30
    BUILD_ARGS+=(--build-arg "TORCH_INDEX_URL=http://127.0.0.1:$port/")
    echo "   the PyTorch index cannot be reached; torch's CPU wheel from $WORK/torch-index"
fi
for target in train serve; do
    tag=faq-answers-$target:local
    t0=$SECONDS
    DOCKER_BUILDKIT=1 "$DOCKER" build --network host --progress plain "${BUILD_ARGS[@]}" \
        --target "$target" --tag "$tag" . >"$WORK/build-$target.log" 2>&1 || {
        tail -n 30 "$WORK/build-$target.log" >&2
        die "docker build --target $target failed; see $WORK/build-$target.log"
    }
    echo "   $tag: $((SECONDS - t0)) s"
done
if [[ -n $INDEX_PID ]]; then
    kill "$INDEX_PID"
    INDEX_PID=""
fi
size() { "$DOCKER" image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}'; }
SIZES=("$(printf '%-26s %s' "$TRAIN" "$(size "$TRAIN")")"
    "$(printf '%-26s %s' "$SERVE" "$(size "$SERVE")")")
printf '   %s\n' "${SIZES[@]}"

# --- data: the first entries of the FAQ --------------------------------------------------------------
DATA=${CHECK_DATA:-../shared/data/cloud_faq/cloud_faq_dataset.jsonl}
[[ -s $DATA ]] || DATA=var/data/cloud_faq_dataset.jsonl
[[ -s $DATA ]] || die "no FAQ data: set CHECK_DATA to a JSON Lines file (question, answer, source)"
DATA_DIR=$(realpath "$WORK")/data
mkdir -p "$DATA_DIR"
head -n "$CHECK_ENTRIES" "$DATA" >"$DATA_DIR/cloud_faq_dataset.jsonl"
chmod -R a+rX "$DATA_DIR"
QUESTION=$(head -n 1 "$DATA_DIR/cloud_faq_dataset.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["question"])')
ID_FILE=$WORK/entry-id
HARDENED=(--cap-drop ALL --security-opt no-new-privileges)
READ_ONLY=(--read-only --tmpfs /tmp)
TRAIN_ARGS=(--data /data/cloud_faq_dataset.jsonl --out /models/servable
    --limit "$CHECK_TRAIN_LIMIT" --recipe head --quiet)

# --- train -----------------------------------------------------------------------------------------
step train
"$DOCKER" volume create "$PREFIX-models" >/dev/null
"$DOCKER" run --rm --name "$PREFIX-train" --network none "${HARDENED[@]}" \
    -v "$PREFIX-models:/models" -v "$DATA_DIR:/data:ro" "$TRAIN" faq-train "${TRAIN_ARGS[@]}" \
    >"$WORK/train.log" 2>&1 || { tail -n 30 "$WORK/train.log" >&2; die "faq-train failed"; }
written=$("$DOCKER" run --rm --network none -v "$PREFIX-models:/models:ro" "$BASE" python3 -c '
import json, os
s = os.stat("/models/servable/manifest.json")
print(f"{s.st_uid}:{s.st_gid}", json.load(open("/models/servable/manifest.json"))["model_id"])')
[[ $written == "10001:10001 "* ]] || die "the servable is owned by ${written% *}, not by the images' uid 10001"
echo "   servable ${written#* } written by uid 10001"

# --- the serve image on a store: index, serve, ask, add, restart -------------------------------------
serve_and_check() { # NAME: docker run arguments for the store follow
    local name=$1 port
    shift
    port=$(free_port)
    "$DOCKER" run --rm --name "$PREFIX-$name-index" "${HARDENED[@]}" "${READ_ONLY[@]}" "$@" \
        -v "$PREFIX-models:/models:ro" -v "$DATA_DIR:/data:ro" \
        "$SERVE" faq-index --data /data/cloud_faq_dataset.jsonl >"$WORK/$name-index.log" 2>&1 || {
        tail -n 30 "$WORK/$name-index.log" >&2
        die "faq-index failed"
    }
    echo "   faq-index: $(grep -oE '"(points_after|seconds)": [0-9.]+' "$WORK/$name-index.log" | tr '\n' ' ')"
    "$DOCKER" run -d --name "$PREFIX-$name" "${HARDENED[@]}" "${READ_ONLY[@]}" "$@" \
        -v "$PREFIX-models:/models:ro" -e FAQ_API_KEY="$KEY" \
        "$SERVE" faq-serve --host 127.0.0.1 --port "$port" >/dev/null
    python3 scripts/check_images_http.py "http://127.0.0.1:$port" "$KEY" "$QUESTION" first "$ID_FILE"
    "$DOCKER" restart "$PREFIX-$name" >/dev/null
    python3 scripts/check_images_http.py "http://127.0.0.1:$port" "$KEY" "$QUESTION" again "$ID_FILE"
    "$DOCKER" rm -f "$PREFIX-$name" >/dev/null
}

step embedded
"$DOCKER" volume create "$PREFIX-store" >/dev/null
serve_and_check embedded --network host -v "$PREFIX-store:/store"

step server
qport=$(free_port)
# The stand-in runs in the serve image, which has its dependencies (qdrant-client, FastAPI, uvicorn).
"$DOCKER" run -d --name "$PREFIX-qdrant" --network host "${HARDENED[@]}" \
    -v "$(realpath tests):/home/faq/tests:ro" "$SERVE" \
    python -m tests.support.qdrant_standin --port "$qport" --path /home/faq/standin >/dev/null
wait_http "http://127.0.0.1:$qport/collections" 60
serve_and_check server --network host -e FAQ_QDRANT_URL="http://127.0.0.1:$qport"

# --- compose ---------------------------------------------------------------------------------------
step compose
for port in 8000 6333; do
    port_is_free "$port" || die "127.0.0.1:$port is taken; compose publishes the service and qdrant there"
done
COMPOSE=("${COMPOSE_CMD[@]}" --project-name "$PREFIX" --file docker-compose.yml
    --file docker-compose.qdrant-standin.yml)
export FAQ_DATA_DIR=$DATA_DIR FAQ_API_KEY=$KEY
unset FAQ_MODELS_DIR FAQ_PUBLISH FAQ_ALLOW_OPEN_WRITES
"${COMPOSE[@]}" --profile train run --rm train faq-train "${TRAIN_ARGS[@]}" --cache-dir /cache \
    >"$WORK/compose-train.log" 2>&1 || { tail -n 30 "$WORK/compose-train.log" >&2; die "compose run train failed"; }
echo "   compose run train: servable written"
"${COMPOSE[@]}" up --detach --no-build >"$WORK/compose-up.log" 2>&1 || {
    tail -n 30 "$WORK/compose-up.log" >&2
    "${COMPOSE[@]}" logs --tail 30 >&2 || true
    die "compose up failed"
}
"${COMPOSE[@]}" ps
python3 scripts/check_images_http.py http://127.0.0.1:8000 "$KEY" "$QUESTION" first "$ID_FILE" || {
    "${COMPOSE[@]}" logs --tail 30 >&2
    die "the compose stack does not answer as it should"
}
"${COMPOSE[@]}" restart service >/dev/null 2>&1
python3 scripts/check_images_http.py http://127.0.0.1:8000 "$KEY" "$QUESTION" again "$ID_FILE" || {
    "${COMPOSE[@]}" logs --tail 30 >&2
    die "the compose stack does not answer as it should after a restart"
}
"${COMPOSE[@]}" down --volumes >/dev/null 2>&1
COMPOSE=()
finish_step

echo "== check_images: ok in $((SECONDS - START)) s"
printf '   %s\n' "${TIMES[@]}"
echo "   images (base $BASE):"
printf '   %s\n' "${SIZES[@]}"
