"""The Excel add-in backend: xlwings-server, configured for planvalidator.

`planvalidator serve` runs xlwings-server's own FastAPI app (PyPI `xlwings-server`, used as a
library). xlwings-server serves the Office.js manifest, the task pane, its JavaScript client and
the alert page, and calls the project's custom scripts with the workbook the client sends. What
is planvalidator's own is small and lives in `planvalidator/addin/files/`, the xlwings-server
project folder: the three scripts (custom_scripts/, which import planvalidator.addin.scripts), the
manifest with the "Performance Plan" ribbon group, the task pane that lists findings, and the
ribbon and task pane JavaScript. Everything else is xlwings-server's, configured through its
settings (XLWINGS_* environment variables) and FastAPI's own extension points:

- authentication: `dependencies.authenticate` is overridden with per-agency tokens from the
  config file (compared in constant time); a missing or unknown token gets 401;
- the scripts: xlwings-server's custom-scripts-call route is taken over by one that runs them
  in worker processes (workers.py), where `parse_body` parses the JSON once and refuses
  malformed JSON and payloads over the limits (sheets, cells) with 400; unknown script names
  get 404; the body size is capped by Starlette's body limit (413);
- errors: one handler, `handle_exception`, turns every error into a JSON answer whose `detail`
  Excel shows (the Office.js client displays `detail`); unknown errors become a 500 with a
  reference and a log line, never a traceback;
- the security headers: the same as xlwings-server's, added by plain ASGI (headers.py).

The config file, the errors and the runtime are in config.py.
"""


import json
import logging
import os
import secrets
from pathlib import Path

from ..errors import AddinError, ConfigError, PayloadError
from ..read.payload import Limits, check_payload
from .config import (ENV_CONFIG, ENV_STORE, OFFICE, BadRequest, Config, Unauthorized,
                     load_config, runtime)

__all__ = ["create_app", "serve", "SCRIPTS"]

logger = logging.getLogger("planvalidator.addin.server")

SCRIPTS = ("validate", "submit", "clear_highlights", "get_my_plan")
PROJECT_DIR = Path(__file__).resolve().parent / "files"
MANIFEST_ID = "5b0f3a52-6c1e-4d8e-9f47-2c1a9e7d3b64"   # planvalidator's own add-in id


# ---- the app -------------------------------------------------------------------------------------

def _xlwings_environment(config: Config) -> None:
    """xlwings-server reads its settings from XLWINGS_* variables when it is imported."""
    os.environ["XLWINGS_PROJECT_DIR"] = str(PROJECT_DIR)
    os.environ.setdefault("DOTENV_PATH", str(PROJECT_DIR / ".env"))   # none: settings come from here
    for key, value in {
        "XLWINGS_PROJECT_NAME": "Performance Plan",
        "XLWINGS_ENVIRONMENT": "prod",
        "XLWINGS_MANIFEST_ID_PROD": MANIFEST_ID,
        "XLWINGS_ENABLE_SOCKETIO": "false",
        "XLWINGS_ENABLE_EXAMPLES": "false",
        "XLWINGS_ENABLE_HOTRELOAD": "false",
        "XLWINGS_ENABLE_WASM": "false",
        "XLWINGS_ENABLE_HTMX": "false",
        "XLWINGS_ENABLE_ALPINEJS_CSP": "false",
    }.items():
        os.environ.setdefault(key, value)
    if config.hostname:
        os.environ["XLWINGS_HOSTNAME"] = config.hostname


def check_license() -> None:
    if not os.environ.get("XLWINGS_LICENSE_KEY"):
        raise ConfigError(
            "The Excel add-in backend uses xlwings' remote interpreter and xlwings-server, which "
            "are dual-licensed. Set XLWINGS_LICENSE_KEY=noncommercial to use them under the "
            "PolyForm Noncommercial License 1.0.0 (use by a government institution is a "
            "permitted purpose), or to your commercial xlwings license key.")


def create_app():
    """The ASGI app: xlwings-server's, with planvalidator's auth, limits and error handling.
    Reads PLANVALIDATOR_CONFIG and PLANVALIDATOR_STORE (uvicorn factory)."""
    check_license()
    rt = runtime()
    _xlwings_environment(rt.config)

    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from xlwings import XlwingsError
    from xlwings_server import dependencies as dep
    from xlwings_server.config import settings
    from xlwings_server.main import app, main_app
    from xlwings_server.models import User
    from xlwings_server.object_handles import XlwingsOperationalError

    from .audit import audit_logger, audited
    from .workers import ScriptPool, script_endpoint

    async def authenticate(request: Request) -> User:
        header = request.headers.get("authorization", "").strip()
        token = header[7:].strip() if header[:7].lower() == "bearer " else header
        if not token:
            raise Unauthorized("This request has no token. Enter your agency's token in the "
                               "Performance Plan task pane; the performance office gives you one.")
        who = rt.config.principal(token)
        if who is None:
            raise Unauthorized("The token was not accepted. Check the token in the Performance "
                               "Plan task pane, or ask the performance office for a new one.")
        request.state.principal = who
        return User(id=who, name=who, roles=[OFFICE if who == OFFICE else "agency"])

    pool = ScriptPool(rt.config.processes, rt.config.time_limit)

    app.dependency_overrides[dep.authenticate] = authenticate
    from .agency import add_routes
    add_routes(app)
    # ahead of xlwings-server's own route for the same path, which runs scripts on the loop
    app.add_api_route(f"{settings.app_path}/xlwings/custom-scripts-call/{{script_name}}",
                      script_endpoint(pool, authenticate), methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())
    for exc_class in (Exception, AddinError, StarletteHTTPException, RequestValidationError,
                      XlwingsError, XlwingsOperationalError):
        app.add_exception_handler(exc_class, handle_exception)
    app.max_body_size = rt.config.max_body_bytes   # bodies without a Content-Length
    from .headers import install as cheaper_security_headers
    cheaper_security_headers(app)
    from .health import add_health_route
    add_health_route(app, rt.store)
    logger.info("planvalidator add-in backend: %d token(s) from %s; submissions go to %s",
                len(rt.config.tokens), rt.config.source or "(no config: every call is refused)",
                rt.store)
    from .manifest import install as manifest_as_office_expects
    office_app = manifest_as_office_expects(main_app, settings.app_path)
    return audited(_declared_size_limit(office_app, rt.config.max_body_bytes),
                   audit_logger(rt.config.audit_log), on_startup=pool.start,
                   unlogged=frozenset({f"{settings.app_path}/health"}))


def _declared_size_limit(asgi_app, limit: int):
    """Answer a request that announces a body over the limit at once, before reading it
    (Starlette's body limit catches the ones that don't announce their size)."""
    from fastapi.responses import JSONResponse
    from starlette.datastructures import Headers

    async def app(scope, receive, send):
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > limit:
                response = JSONResponse({"detail": _STATUS_MESSAGES[413]}, status_code=413)
                await response(scope, receive, send)
                return
        await asgi_app(scope, receive, send)
    return app


EMPTY_BODY = "The request is empty; it should hold the workbook sent by the Excel add-in."


def parse_body(body: bytes, limits: Limits) -> dict:
    """The workbook the client sent, parsed once and checked against the limits."""
    if not body:
        raise BadRequest(EMPTY_BODY)
    try:
        return check_payload(json.loads(body, parse_constant=_no_constants), limits)
    except PayloadError as e:
        raise BadRequest(str(e)) from None
    except (ValueError, RecursionError):
        raise BadRequest("The request is not valid JSON; it should hold the workbook sent "
                         "by the Excel add-in.") from None


def _no_constants(name):
    raise ValueError(f"JSON constant {name} is not allowed")


# ---- errors: one place turns them into answers --------------------------------------------------

_STATUS_MESSAGES = {
    404: "There is no such page on the Performance Plan server.",
    405: "The Performance Plan server does not accept this kind of request here.",
    413: "The workbook sent is far larger than a plan workbook; delete unused rows, columns "
         "and sheets, and try again.",
}


async def handle_exception(request, exc):
    """Every error → a JSON answer {"detail": message}, which Excel shows to the analyst.
    Known errors keep their status; anything else is a 500 with a reference and a log line."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from xlwings import XlwingsError

    headers = None
    if isinstance(exc, AddinError):
        status, message = exc.status, str(exc)
        if status >= 500:
            logger.error("%s %s: %s", request.method, request.url.path, message)
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        message = _STATUS_MESSAGES.get(status) or str(exc.detail)
        headers = getattr(exc, "headers", None)
    elif isinstance(exc, RequestValidationError):
        status, message = 400, "The request is not what the Excel add-in sends."
    elif isinstance(exc, XlwingsError) and type(exc).__name__ != "LicenseError":
        status, message = 400, str(exc)
    else:
        return server_error(request, exc)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def server_error(request, cause):
    """A 500 whose message gives a reference; the log line under it has the cause (an exception,
    or a worker's traceback text)."""
    from fastapi.responses import JSONResponse
    reference = secrets.token_hex(4)
    if isinstance(cause, BaseException):
        logger.error("%s %s failed (reference %s)", request.method, request.url.path, reference,
                     exc_info=cause)
    else:
        logger.error("%s %s failed (reference %s): %s", request.method, request.url.path,
                     reference, cause)
    message = (f"Something went wrong on the Performance Plan server (reference {reference}). "
               "Nothing was submitted. Try again; if it keeps happening, tell the "
               "performance office and quote the reference.")
    return JSONResponse({"detail": message}, status_code=500)


# ---- serve ---------------------------------------------------------------------------------------

def serve(host: str = "127.0.0.1", port: int = 8000, store: Path | None = None,
          config: Path | None = None, workers: int = 1, log_level: str = "info") -> None:
    """Run the backend until interrupted (the `planvalidator serve` command)."""
    check_license()
    cfg = load_config(config)
    if not cfg.tokens:
        logger.warning("No tokens are configured: every Validate, Submit and Clear request will "
                       "be refused (401). Pass --config FILE.")
    os.environ[ENV_CONFIG] = str(Path(config).resolve()) if config else ""
    os.environ[ENV_STORE] = str(Path(store or cfg.store or "submissions").resolve())
    import uvicorn
    # no access log: the audit trail (audit.py) is the one line per request; uvicorn's
    # second, unstructured line also cost the event loop CPU on every request
    uvicorn.run("planvalidator.addin.server:create_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, proxy_headers=True, access_log=False,
                ssl_certfile=cfg.tls_certfile and str(cfg.tls_certfile),
                ssl_keyfile=cfg.tls_keyfile and str(cfg.tls_keyfile))
