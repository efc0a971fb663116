"""Reading an HTTP request body safely: the size is checked before a byte is read, and a
body that cannot be decoded (a broken gzip stream, say) is the client's error, not ours."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_protocol import RequestPayloadError


class BadBody(Exception):
    """A body refused before use: ``status`` (400, 408 or 413) and the one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason

    def answer(self) -> dict[str, str]:
        return {"error": self.reason}


BODY_READ_S = 30.0
"""How long a client may take to send its body: a slow sender holds a connection no longer."""


async def read_body(request: web.Request, limit: int, within_s: float = BODY_READ_S) -> bytes:
    """The whole body, at most ``limit`` bytes as it expands, within ``within_s`` seconds."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BadBody(413, f"the body is {declared} bytes, over the limit of {limit}")
    try:
        return await asyncio.wait_for(request.read(), within_s)
    except TimeoutError:
        raise BadBody(408, f"the body did not arrive within {within_s:.0f} s") from None
    except web.HTTPRequestEntityTooLarge:
        raise BadBody(413, f"the body is over the limit of {limit} bytes") from None
    except BadHttpMessage as error:
        raise BadBody(400, f"the body cannot be read: {error.message}") from None
    except RequestPayloadError as error:  # a broken gzip stream, a body cut short
        reason = " ".join(str(error).split())
        raise BadBody(400, f"the body cannot be read: {reason}") from None
