"""Bringing an input's bytes in: a file, or an http(s) URL, within `Limits.max_bytes`.

A download is streamed and stopped once past the limit, with a timeout and at most a few
redirects, so that a slow or endless server, or a huge file, fails fast with a message.
"""

from __future__ import annotations

from pathlib import Path

from faq_core.errors import DataFileError, SourceTooLarge, SourceUnreadable
from faq_core.sources.base import Document, Limits

URL_SCHEMES = ("http://", "https://")
# A file's path, or an http(s) URL as a string.
Location = Path | str
MAX_REDIRECTS = 3


def is_url(location: Location) -> bool:
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def location(text: str) -> Location:
    """A command line's data argument: a URL as it is (a Path would fold its "//"), else a
    path."""
    return text if is_url(text) else Path(text)


def load(location: Location, limits: Limits) -> Document:
    if is_url(location):
        return download(str(location), limits)
    return read_file(Path(location), limits)


def read_file(path: Path, limits: Limits) -> Document:
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise DataFileError(path, 0, f"cannot open: {exc.strerror}") from exc
    if len(data) > limits.max_bytes:
        raise SourceTooLarge(path, f"the file is larger than {limits.max_bytes:,} bytes")
    return Document(str(path), data)


def download(url: str, limits: Limits) -> Document:
    import httpx  # only a URL pays for importing it

    chunks: list[bytes] = []
    size = 0
    try:
        with (
            httpx.Client(
                timeout=limits.download_timeout_s,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"accept": "text/html,text/markdown,text/csv,*/*;q=0.5"},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise SourceUnreadable(url, f"the server answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            too_large = f"the download is larger than {limits.max_bytes:,} bytes"
            if declared.isdigit() and int(declared) > limits.max_bytes:
                raise SourceTooLarge(url, too_large)
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limits.max_bytes:
                    raise SourceTooLarge(url, too_large)
                chunks.append(chunk)
            media_type = response.headers.get("content-type")
            final = str(response.url)
    except httpx.TooManyRedirects as exc:
        raise SourceUnreadable(url, f"more than {MAX_REDIRECTS} redirects") from exc
    except httpx.TimeoutException as exc:
        raise SourceUnreadable(url, f"no answer within {limits.download_timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise SourceUnreadable(url, f"cannot download: {exc}") from exc
    return Document(url, b"".join(chunks), media_type, base_url=final)
