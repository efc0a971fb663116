"""Request bodies on a real aiohttp server: the size is refused before it is read, and a
client that sends its body too slowly gets 408 instead of holding the connection."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession, web

from agents.web.requests import BadBody, read_body


async def serve(limit: int, within_s: float) -> tuple[web.AppRunner, int]:
    async def handle(request: web.Request) -> web.Response:
        try:
            body = await read_body(request, limit, within_s)
        except BadBody as bad:
            return web.json_response(bad.answer(), status=bad.status)
        return web.json_response({"bytes": len(body)})

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


async def test_a_body_over_the_limit_is_refused_by_its_length() -> None:
    runner, port = await serve(limit=10, within_s=5)
    try:
        async with ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/", data=b"x" * 11) as response:
                assert response.status == 413
            async with session.post(f"http://127.0.0.1:{port}/", data=b"x" * 10) as response:
                assert (response.status, await response.json()) == (200, {"bytes": 10})
    finally:
        await runner.cleanup()


async def test_a_body_sent_too_slowly_gets_408() -> None:
    runner, port = await serve(limit=1000, within_s=0.5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        assert status_line.split()[1] == b"408"
        writer.close()
    finally:
        await runner.cleanup()
