"""The audit trail: one JSON line per HTTP request the add-in backend answers.

    {"time": "2026-12-02T02:40:11.532Z", "client": "10.0.4.17", "principal": "DOT",
     "action": "submit", "status": 200, "result": "stored", "fingerprint": "9f86d08…",
     "duration_ms": 41.3}

- `principal`: the agency code or "office" the token belongs to (null before a token was
  accepted); `action`: the add-in command (validate, submit, clear_highlights) or, for anything
  else, the method and path (`GET /taskpane.html`);
- `result`: `stored` (a Submit that stored the plan; `fingerprint` is its SHA-256), `refused` (a
  Submit with errors, a bad or missing token, a request over the limits: any 4xx), `error`
  (the server failed or ran out of time: any 5xx), `ok` (anything else answered).

Written to the file named by `audit_log` in the config file, else to stderr. The file is opened
with WatchedFileHandler, so logrotate may move it away (docs/addin.md has the snippet).
GET /health is left out: a load balancer polls it every few seconds, which would flood the trail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path

__all__ = ["audit_logger", "audited"]

SCRIPT_PATH = "/xlwings/custom-scripts-call/"


def audit_logger(path: Path | None) -> logging.Logger:
    logger = logging.getLogger("planvalidator.audit")
    logger.setLevel(logging.INFO)
    logger.propagate = False   # the lines are the record; not mixed into uvicorn's format
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    if path is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger


def audited(asgi_app, logger: logging.Logger, on_startup=None, unlogged: frozenset = frozenset()):
    """`asgi_app`, logging one line per HTTP request as its answer completes (or it failed),
    except for the paths in `unlogged`. What the app learnt (principal, result, fingerprint) it
    leaves in the request's state."""

    async def app(scope, receive, send):
        if scope["type"] == "lifespan" and on_startup is not None:
            on_startup()
        if scope["type"] != "http" or scope["path"] in unlogged:
            return await asgi_app(scope, receive, send)
        start = time.perf_counter()
        state = scope.setdefault("state", {})
        status, logged = 500, False   # 500 unless an answer starts

        def log():
            nonlocal logged
            if not logged:
                logged = True
                logger.info(json.dumps(_line(scope, state, status, time.perf_counter() - start)))

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                log()   # before the last bytes go out: the client never sees an answer unlogged
            await send(message)

        try:
            await asgi_app(scope, receive, send_status)
        finally:
            log()
    return app


def _line(scope, state: dict, status: int, seconds: float) -> dict:
    path = scope.get("path", "")
    if SCRIPT_PATH in path:
        action = path.rsplit("/", 1)[-1][:40]
    else:
        action = f"{scope.get('method', '')} {path[:200]}"
    result = state.get("result") or ("error" if status >= 500 else
                                      "refused" if status >= 400 else "ok")
    client = scope.get("client")
    now = dt.datetime.now(dt.timezone.utc)
    return {"time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "client": client[0] if client else None,
            "principal": state.get("principal"),
            "action": action,
            "status": status,
            "result": result,
            "fingerprint": state.get("fingerprint"),
            "duration_ms": round(seconds * 1000, 1)}
