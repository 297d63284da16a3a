"""GET /health: can this server take a Submit now? For a container's HEALTHCHECK, a load
balancer and the city's monitoring, so it needs no token and tells nothing secret: the versions
(the xlwings one is what the VBA route's xlwings.xlam must match) and whether the store folder
can be written. 200 when it can, 503 when it can't (Submit would fail with 503 too)."""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path


def store_writable(store: Path) -> bool:
    """Whether a file can be created in the store folder (or, before the first Submit creates
    it, in its nearest existing parent). The probe is an unnamed temporary file (O_TMPFILE on
    Linux), so nothing appears in the append-only store."""
    folder = store
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"\0")
            probe.flush()
    except OSError:
        return False
    return True


def health(store: Path) -> tuple[int, dict]:
    """The status code and JSON body of GET /health."""
    writable = store_writable(store)
    return (200 if writable else 503), {
        "status": "ok" if writable else "store not writable",
        "version": _version("planvalidator"),
        "xlwings": _version("xlwings"),
        "store_writable": writable,
    }


def _version(package: str) -> str:
    """The installed version; "unknown" when run from a source tree that is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def add_health_route(app, store: Path) -> None:
    """`GET|HEAD /health` (under xlwings-server's app path) on its FastAPI app; no token."""
    from fastapi.responses import JSONResponse
    from xlwings_server.config import settings

    async def health_endpoint():
        status, body = health(store)
        return JSONResponse(body, status_code=status)   # no-store: xlwings-server's headers

    app.add_api_route(f"{settings.app_path}/health", health_endpoint, methods=["GET", "HEAD"],
                      include_in_schema=False)
