"""FAQ pages from http(s) URLs, against a real HTTP server on the loopback: the page, its
address for relative links, and the limits (redirects, size, time, errors)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from faq_core.errors import SourceTooLarge, SourceUnreadable
from faq_core.sources import Limits, load, location, read_entries

SPARK = (Path(__file__).parents[2] / "fixtures" / "faq_pages" / "spark-faq.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        if self.path == "/faq":
            self._send(SPARK, "text/html; charset=utf-8")
        elif self.path.startswith("/hop/"):
            left = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", "/faq" if left == 0 else f"/hop/{left - 1}")
            self.end_headers()
        elif self.path == "/endless":
            # No Content-Length: only counting the bytes as they come stops it.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(10_000):
                    self.wfile.write(b"<p>How?</p>" * 1000)
            except OSError:
                pass  # the client hung up once past its limit
        elif self.path == "/slow":
            time.sleep(2)
            self._send(b"<p>late</p>", "text/html")
        else:
            self._send(b"not here", "text/plain", 404)

    def _send(self, body: bytes, media_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up on /endless is what that test wants


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_by_url_is_read_with_links_relative_to_it(site: str) -> None:
    entries = read_entries(location(f"{site}/faq"))
    assert len(entries) == 12
    answers = {e.question: e.answer for e in entries}
    # The page's own address resolves its relative links, as a browser would.
    assert (
        f"storage level ({site}/docs/latest/scala-programming-guide.html#rdd-persistence)"
        in (answers["Does my data need to fit in memory to use Spark?"])
    )


def test_redirects_are_followed_up_to_three(site: str) -> None:
    doc = load(f"{site}/hop/2", Limits())
    assert doc.base_url == f"{site}/faq" and doc.data == SPARK
    with pytest.raises(SourceUnreadable, match="more than 3 redirects"):
        load(f"{site}/hop/3", Limits())


def test_a_download_past_the_size_limit_stops_while_streaming(site: str) -> None:
    started = time.perf_counter()
    with pytest.raises(SourceTooLarge, match="the download is larger than 1,048,576 bytes"):
        load(f"{site}/endless", Limits(max_bytes=2**20))
    assert time.perf_counter() - started < 30  # well under a second here; generous for CI
    # A declared Content-Length past the limit is refused before the body.
    with pytest.raises(SourceTooLarge, match="larger than 1,000 bytes"):
        load(f"{site}/faq", Limits(max_bytes=1000))


def test_errors_and_slow_servers(site: str) -> None:
    with pytest.raises(SourceUnreadable, match="the server answered 404"):
        load(f"{site}/missing.html", Limits())
    with pytest.raises(SourceUnreadable, match=re.escape("no answer within 0.5 s")):
        load(f"{site}/slow", Limits(download_timeout_s=0.5))
    with pytest.raises(SourceUnreadable, match="cannot download"):
        load("http://127.0.0.1:9/faq", Limits(download_timeout_s=2))
