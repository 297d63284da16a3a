"""xlwings-server's security headers, added by plain ASGI instead of Starlette's
BaseHTTPMiddleware.

xlwings-server puts OWASP's security headers on every answer with `@app.middleware("http")`
(`xlwings_server.main.add_security_headers`). That kind of middleware runs the rest of the app
in a task of its own and passes the request and answer bodies through memory streams: about a
third of the event loop's CPU for a Validate (bench/addin_latency.py). `install` puts this in
its place, the same headers from the same settings, set on the answer's first message.
"""

from __future__ import annotations

__all__ = ["install"]

IMAGES = ("jpg", "jpeg", "png", "gif", "bmp", "webp", "svg")   # Excel's ribbon icons need caching


def install(app) -> None:
    """Replace xlwings-server's header middleware on its FastAPI `app` (before the first
    request builds the middleware stack); a version without it is left as it is."""
    from starlette.middleware import Middleware
    from xlwings_server import main

    for i, middleware in enumerate(app.user_middleware):
        if middleware.kwargs.get("dispatch") is main.add_security_headers:
            app.user_middleware[i] = Middleware(security_headers)
            return


def security_headers(asgi_app):
    """`asgi_app`, its answers carrying the headers xlwings-server's settings ask for."""
    from starlette.datastructures import MutableHeaders
    from xlwings_server.config import settings
    from xlwings_server.security_headers import resolve_security_headers

    headers: dict[str, str] = {}
    if settings.add_security_headers:
        headers = resolve_security_headers(excel_online=settings.enable_excel_online,
                                           cdn_officejs=settings.cdn_officejs)
    elif settings.environment == "dev":
        headers = {"Cache-Control": "no-store, max-age=0"}
    for_images = {k: v for k, v in headers.items()
                  if not (k == "Cache-Control" and settings.add_security_headers)}
    headers, for_images = ({**h, **settings.custom_headers} for h in (headers, for_images))

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return await asgi_app(scope, receive, send)
        chosen = for_images if scope["path"].rsplit(".", 1)[-1].lower() in IMAGES else headers

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in chosen.items():
                    answer[name] = value
            await send(message)

        await asgi_app(scope, receive, send_with_headers)
    return app
