"""The registrar's own HTTP port: /healthz (is the API in sync?) and /metrics."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web


async def serve(
    port: int, *, healthz: Callable[[], tuple[bool, str]], metrics: Callable[[], str], host: str = "0.0.0.0"
) -> web.AppRunner:
    async def handle_healthz(_request: web.Request) -> web.Response:
        ok, why = healthz()
        return web.Response(status=200 if ok else 503, text=why + "\n")

    async def handle_metrics(_request: web.Request) -> web.Response:
        return web.Response(
            text=metrics(), content_type="text/plain", charset="utf-8", headers={"X-Content-Type-Options": "nosniff"}
        )

    app = web.Application()
    app.router.add_get("/healthz", handle_healthz)
    app.router.add_get("/metrics", handle_metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
