"""Bearer tokens on the HTTP endpoints that change things (ingest, subscriptions, pushes)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

UNAUTHORISED = {"error": "a valid bearer token is required"}


def bearer_allows(headers: Mapping[str, str], token: str | None) -> bool:
    """True when the request's ``Authorization`` carries ``token``; a missing token is a
    configuration without one, so everything is allowed."""
    if not token:
        return True
    given = headers.get("Authorization", "")
    # A header that is not UTF-8 arrives with surrogates in place of its bytes: no match.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), f"Bearer {token}".encode())
