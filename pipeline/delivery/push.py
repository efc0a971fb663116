"""HTTP push to a subscriber (a CMS, a website, a partner): what is sent, how it is signed,
which answers deliver it, which are tried again and when, and which addresses a push may go
to. Pure; ``agents.push`` does the sending.

Every record is POSTed with an idempotency key (the story's uri and version: a re-send after
a crash carries the same key), a timestamp and ``sha256=`` HMAC of ``<timestamp>.<body>`` with
the subscription's secret, so the receiver can check that it came from us and is fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from pipeline.delivery.newsml_g2 import CONTENT_TYPE as NEWSML_G2_TYPE
from pipeline.delivery.newsml_g2 import newsml_g2

FORMATS = ("ninjs", "newsml-g2")
RETRIED_STATUSES = frozenset({408, 425, 429})
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 60.0
MAX_ANSWER_CHARS = 500
Outcome = Literal["delivered", "retry", "failed"]


class PushRefused(ValueError):
    """A push destination that may not be used; the message says why."""


@dataclass(frozen=True)
class PushTarget:
    """Where a subscription's records go: ``url``, signed with ``secret``, in ``format``."""

    url: str
    secret: str
    format: str = "ninjs"

    def stored(self) -> dict[str, str]:
        return {"url": self.url, "secret": self.secret, "format": self.format}

    def shown(self) -> dict[str, str]:
        """What the API shows: never the secret."""
        return {"url": self.url, "format": self.format}


def check_push(value: Any, allowed: frozenset[str]) -> PushTarget:
    """A subscription's ``push`` as given (``{"url", "secret", "format"}``), checked."""
    if not isinstance(value, dict) or set(value) - {"url", "secret", "format"}:
        raise PushRefused('push is {"url": ..., "secret": ..., "format": "ninjs"|"newsml-g2"}')
    url, secret, kind = value.get("url"), value.get("secret"), value.get("format", "ninjs")
    if not isinstance(url, str) or not isinstance(secret, str) or len(secret) < 16:
        raise PushRefused("push needs a url and a secret of 16 characters or more")
    if kind not in FORMATS:
        raise PushRefused(f"push format must be one of {', '.join(FORMATS)}")
    check_url(url, [], allowed)
    return PushTarget(url, secret, kind)


def check_url(url: str, addresses: list[str], allowed: frozenset[str]) -> None:
    """``https``, or ``http`` and addresses on this machine or a private network only for
    hosts the operator allows (``NEWSWIRE_PUSH_ALLOW_HOSTS``: names or CIDRs). ``addresses``
    are what the host resolves to, checked at every send (a name may move)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise PushRefused(f"push url {url!r} is not an http(s) url")
    internal = [a for a in [host, *addresses] if _internal(a)]
    if parts.scheme == "https" and not internal:
        return
    if _allowed(host, [host, *addresses], allowed):
        return
    reason = "is on this machine or a private network" if internal else "is plain http"
    raise PushRefused(f"push url {url!r} {reason}: allow its host in NEWSWIRE_PUSH_ALLOW_HOSTS")


def _internal(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified


def _allowed(host: str, addresses: list[str], allowed: frozenset[str]) -> bool:
    if host in allowed:
        return True
    for entry in allowed:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        for address in addresses:
            try:
                if ipaddress.ip_address(address.strip("[]")) in network:
                    return True
            except ValueError:
                continue
    return False


def request_for(
    target: PushTarget, subscription: str, story: dict[str, Any], value: bytes, now: float
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one push."""
    body = newsml_g2(story) if target.format == "newsml-g2" else value
    content_type = NEWSML_G2_TYPE if target.format == "newsml-g2" else "application/json"
    timestamp = str(int(now))
    return body, {
        "Content-Type": content_type,
        "Idempotency-Key": idempotency_key(story),
        "X-Newswire-Subscription": subscription,
        "X-Newswire-Timestamp": timestamp,
        "X-Newswire-Signature": "sha256=" + signature(target.secret, timestamp, body),
    }


def idempotency_key(story: dict[str, Any]) -> str:
    return f"{story['uri']}:{story['version']}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of ``<timestamp>.<body>`` with the secret, in hex."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def outcome_of(status: int | None) -> Outcome:
    """A 2xx delivers; no answer (a timeout, a refused connection), 408, 425, 429 and 5xx
    are tried again; any other answer says the request itself is wrong: it fails."""
    if status is None or status in RETRIED_STATUSES or status >= 500:
        return "retry"
    return "delivered" if 200 <= status < 300 else "failed"


def backoff(attempt: int, retry_after: str | None, rng: random.Random) -> float:
    """Seconds before the next try: the receiver's ``Retry-After`` where it gives one (capped),
    else capped exponential back-off with full jitter."""
    if retry_after:
        wanted = _retry_after_seconds(retry_after)
        if wanted is not None:
            return min(max(wanted, 0.0), MAX_BACKOFF_S)
    ceiling = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** min(attempt, 16))
    return rng.uniform(ceiling / 2, ceiling)


def _retry_after_seconds(value: str) -> float | None:
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def failure_record(
    subscription: str, story: dict[str, Any], status: int, answer: str, at: str
) -> bytes:
    """What a push the receiver refused leaves on the failures topic."""
    return orjson.dumps(
        {
            "subscription": subscription,
            "uri": story.get("uri"),
            "version": story.get("version"),
            "status": status,
            "answer": answer[:MAX_ANSWER_CHARS],
            "failedAt": at,
        }
    )
