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
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
