"""Console script `faq-serve`."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from faq_core.settings import Settings
from service.allocator import restart_on_jemalloc
from service.exposure import OpenWritesRefused, check_exposure

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    if settings.jemalloc:
        restart_on_jemalloc(["-m", "service", *(sys.argv[1:] if argv is None else argv)])
    parser = argparse.ArgumentParser(prog="faq-serve", description="Serve the FAQ answer API.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--allow-open-writes",
        action="store_true",
        default=settings.allow_open_writes,
        help="serve beyond loopback without FAQ_API_KEY (as FAQ_ALLOW_OPEN_WRITES=true)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings.model_copy(
        update={"host": args.host, "port": args.port, "allow_open_writes": args.allow_open_writes}
    )
    try:
        warning = check_exposure(settings)
    except OpenWritesRefused as exc:
        print(f"faq-serve: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if warning is not None:
        log.warning(warning)
    # Imported only now: the restart above comes before loading torch, and a refusal above
    # needs no model.
    from service.app import create_app

    # One worker process: the model and the embedded store belong to this process; concurrency
    # comes from the micro-batcher, not from more processes.
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
    )
