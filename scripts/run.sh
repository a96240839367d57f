#!/usr/bin/env bash
# The main job on a fresh machine: set up, train on the cloud FAQ data, index it, serve on :8000.
#   FAQ_DATA   your FAQ: a data file (JSON Lines, CSV, XLSX, QnA Maker TSV), an FAQ page (HTML or
#              Markdown), or an http(s) URL of one; default: download the public cloud FAQ dataset
#   FAQ_*      any other setting (see README), e.g. FAQ_QDRANT_URL to use a Qdrant server
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export FAQ_MODEL_PATH=${FAQ_MODEL_PATH:-var/model}
DATA_URL=https://storage.googleapis.com/demo-cloud-faq/dataset/cloud_faq_dataset.jsonl
if [ -z "${FAQ_DATA:-}" ]; then
  FAQ_DATA=var/data/cloud_faq_dataset.jsonl
  if [ ! -s "$FAQ_DATA" ]; then
    echo "downloading $DATA_URL"
    mkdir -p var/data
    .venv/bin/python -c "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])" \
      "$DATA_URL" "$FAQ_DATA.part"
    mv "$FAQ_DATA.part" "$FAQ_DATA"
  fi
fi

echo "== 1/3 train on $FAQ_DATA (faq-train --data; under 500 entries nothing is tuned)"
.venv/bin/faq-train --data "$FAQ_DATA" --out "$FAQ_MODEL_PATH" --skip-if-current
echo "== 2/3 index $FAQ_DATA"
.venv/bin/faq-index --data "$FAQ_DATA"
echo "== 3/3 serve on http://${FAQ_HOST:-127.0.0.1}:${FAQ_PORT:-8000}"
exec .venv/bin/faq-serve
