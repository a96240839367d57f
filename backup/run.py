"""What `faq-store` does: export to a file (from the store, or through the running service),
restore from one, and copy from the configured store straight into a Qdrant server."""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from faq_core.errors import DataFileError, ServableError, StoreUnavailable
from faq_core.servable import Servable, fingerprint, serving_model
from faq_core.settings import Settings
from faq_core.store import open_backend
from faq_core.store.dump import Header, lines_of, open_read, open_write, read_stream
from faq_core.store.export import export_stream, header_for, live_for_export
from faq_core.store.restore import RestoreSummary, restore

log = logging.getLogger(__name__)
CHUNK = 1 << 20
# The longest wait for the next bytes of GET /export: the service sends a page of entries (with
# their phrasings and vectors, ~12 MB) at a time, each read in a second or two.
READ_TIMEOUT_S = 120


@dataclass(frozen=True)
class ExportSummary:
    out: str
    source: str
    model_id: str
    vectors: str
    bytes: int
    counts: dict[str, int]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_file(settings: Settings, out: Path, *, vectors: bool = True) -> ExportSummary:
    """Export the configured store's live version and record logs to `out`: written beside it
    and renamed into place once complete, so `out` is never a partial export."""
    started = time.perf_counter()
    try:
        with live_for_export(settings) as (backend, store):
            header = header_for(backend, store, vectors=vectors)
            source = f"{backend.kind} {backend.location}"
            written = _write_atomically(out, export_stream(backend, store, header))
    except StoreUnavailable as exc:
        if settings.qdrant_url is None:
            raise StoreUnavailable(
                f"{exc}; while faq-serve runs, export through it: "
                "faq-store export --url http://HOST:PORT --out FILE"
            ) from None
        raise
    return ExportSummary(
        str(out),
        source,
        header.model_id,
        header.vectors,
        out.stat().st_size,
        written,
        round(time.perf_counter() - started, 2),
    )


def export_url(settings: Settings, url: str, out: Path, *, vectors: bool = True) -> ExportSummary:
    """Export through a running service (GET /export, with FAQ_API_KEY), checked whole before
    it is renamed into place."""
    started = time.perf_counter()
    endpoint = url.rstrip("/") + "/export" + ("" if vectors else "?vectors=false")
    request = urllib.request.Request(endpoint, headers={"Accept": "application/x-ndjson"})
    if settings.api_key is not None:
        request.add_header("Authorization", f"Bearer {settings.api_key.get_secret_value()}")
    try:
        response = urllib.request.urlopen(request, timeout=READ_TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        raise StoreUnavailable(f"{endpoint} answered {exc.code}: {_error_message(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach the service at {endpoint}: {exc}") from None
    with response:
        counts = _write_atomically(out, iter(lambda: response.read(CHUNK), b""), check=True)
    with open_read(out) as handle:
        header, _ = read_stream(handle, str(out))
    return ExportSummary(
        str(out),
        f"service {url}",
        header.model_id,
        header.vectors,
        out.stat().st_size,
        counts,
        round(time.perf_counter() - started, 2),
    )


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return exc.reason


def _write_atomically(out: Path, chunks: Iterator[bytes], *, check: bool = False) -> dict[str, int]:
    """Write the chunks to `out` (gzip for *.gz) through a file beside it, fsync'd and renamed
    into place; returns the end record's counts. With `check`, the whole stream is read back
    and checked first (from the network, it may have been cut)."""
    part = out.with_name(out.name + ".part")
    last = b""
    try:
        with open_write(part, name=out) as handle:
            for chunk in chunks:
                handle.write(chunk)
                last = (last + chunk)[-CHUNK:]
            _sync(handle)
        if check:
            with open_read(part) as handle:
                _, items = read_stream(handle, str(out))
                for _ in items:
                    pass
        end = json.loads(last.rstrip(b"\n").rsplit(b"\n", 1)[-1])
        if end.get("kind") != "end":
            raise DataFileError(out, 0, "the export was cut short: no end record")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return {k: n for k, n in end["counts"].items()}


def _sync(handle: IO[bytes]) -> None:
    handle.flush()
    raw = getattr(handle, "fileobj", None) or handle  # a gzip file's own file
    raw.flush()
    os.fsync(raw.fileno())


def servable_for(settings: Settings, header: Header) -> Servable | None:
    """The servable to encode a restore with, None to copy the export's vectors: they are kept
    when the servable at FAQ_MODEL_PATH made them (or there is none, and the export has them),
    else everything is encoded again by it, the servable that will serve."""
    path = settings.model_path
    if not (path / "config.json").is_file():
        if header.vectors == "none":
            raise ServableError(
                f"the export holds no vectors and {path} holds no servable to encode them: set "
                "FAQ_MODEL_PATH to the servable the service will run"
            )
        log.warning("no servable at %s: keeping the export's vectors (%s)", path, header.model_id)
        return None
    if header.vectors == "float32" and fingerprint(path) == header.model_id:
        return None
    log.warning("encoding every text again with the servable at %s", path)
    return serving_model(settings)


def restore_file(settings: Settings, path: Path, *, replace_held: bool = False) -> RestoreSummary:
    """Check the whole file, then restore it into the configured store."""
    with open_read(path) as handle:
        header, items = read_stream(handle, str(path))
        for _ in items:
            pass
    servable = servable_for(settings, header)
    backend = open_backend(settings)
    try:
        with open_read(path) as handle:
            header, items = read_stream(handle, str(path))
            return restore(
                backend, header, items, settings, servable=servable, replace_held=replace_held
            )
    finally:
        backend.close()


def copy_to(settings: Settings, url: str, *, replace_held: bool = False) -> RestoreSummary:
    """Copy the configured store (the embedded one, say) into the Qdrant server at `url`: an
    export piped into a restore, with no file between them."""
    target_settings = settings.model_copy(update={"qdrant_url": url})
    with live_for_export(settings) as (backend, store):
        header = header_for(backend, store, vectors=True)
        servable = servable_for(target_settings, header)
        lines = lines_of(export_stream(backend, store, header))
        _, items = read_stream(lines, f"store {backend.location}")
        target = open_backend(target_settings)
        try:
            return restore(
                target,
                header,
                items,
                target_settings,
                servable=servable,
                replace_held=replace_held,
            )
        finally:
            target.close()
