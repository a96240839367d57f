"""Whether faq-serve may listen where it is told to: writes and users' words are never opened to
the network by accident.

Without FAQ_API_KEY every write endpoint and the unanswered log (users' own questions) are open
to whoever reaches the port. That is fine on loopback; anywhere else it needs a key, or an
explicit FAQ_ALLOW_OPEN_WRITES=true, and even then the log says so loudly at every start.
"""

from __future__ import annotations

import ipaddress

from faq_core.settings import Settings

_OPEN = (
    "anyone who can reach port {port} can add and delete FAQ entries and read users' "
    "unanswered questions"
)


class OpenWritesRefused(Exception):
    """faq-serve would listen beyond loopback with its writes open, and nobody said it may."""


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only. A name other than localhost could
    resolve to anything, and '' or 0.0.0.0 or :: mean every interface: none of them is."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def reachable_on(settings: Settings) -> str:
    """The address clients reach the service on: where its port is published
    (FAQ_PUBLISHED_HOST, for a container's published port), else where it listens."""
    return settings.published_host if settings.published_host is not None else settings.host


def check_exposure(settings: Settings) -> str | None:
    """None when the service may start quietly; a warning to log when it may start with writes
    open to the network because FAQ_ALLOW_OPEN_WRITES says so. Raises OpenWritesRefused when
    they would be open and nothing allows it."""
    host = reachable_on(settings)
    if settings.api_key is not None or is_loopback(host):
        return None
    where = host or "every interface"
    if settings.published_host is not None:
        where += f" (its published address; it listens on {settings.host or 'every interface'})"
    if settings.allow_open_writes:
        return (
            f"WRITES ARE OPEN TO THE NETWORK: serving on {where} without FAQ_API_KEY, as "
            f"FAQ_ALLOW_OPEN_WRITES allows; {_OPEN.format(port=settings.port)}"
        )
    raise OpenWritesRefused(
        f"refusing to serve on {where} without FAQ_API_KEY: "
        f"{_OPEN.format(port=settings.port)}. Set FAQ_API_KEY (writes then need "
        "'Authorization: Bearer <key>'), or listen on 127.0.0.1, or, to serve with open "
        "writes on purpose, set FAQ_ALLOW_OPEN_WRITES=true (or pass --allow-open-writes)"
    )
