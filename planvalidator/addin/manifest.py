"""The Office add-in manifest as Excel expects it (files/templates/manifest.xml).

xlwings-server renders the manifest from our template; this adds what its route does not give:
- the version, taken from the installed package: Office caches a manifest by its version, so a
  release that changes commands or icons must change the version (4 parts, as Office wants);
- an XML content type: xlwings-server answers the manifest as text/plain, which the Microsoft
  365 admin center and some Office builds refuse to read as a manifest.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

CONTENT_TYPE = b"application/xml; charset=utf-8"


def manifest_version() -> str:
    """'0.1.0' → '0.1.0.0' (Office's n.n.n.n; a pre-release or local suffix is dropped)."""
    try:
        text = version("planvalidator")
    except PackageNotFoundError:   # a source tree that was never installed
        text = "0.0.0"
    release = re.match(r"\d+(?:\.\d+)*", text)
    numbers = [str(int(n)) for n in release.group().split(".")[:4]] if release else []
    return ".".join((numbers + ["0"] * 4)[:4])


def install(asgi_app, app_path: str = ""):
    """Give xlwings-server's templates the version; answer the manifest as XML. Returns the
    ASGI app to serve."""
    from xlwings_server.templates import env

    env.globals["addin_version"] = manifest_version()
    paths = {f"{app_path}/manifest", f"{app_path}/manifest.xml"}

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in paths:
            await asgi_app(scope, receive, send)
            return

        async def send_as_xml(message):
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-type"]
                message = {**message, "headers": headers + [(b"content-type", CONTENT_TYPE)]}
            await send(message)

        await asgi_app(scope, receive, send_as_xml)
    return app
