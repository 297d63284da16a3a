"""Where the add-in's scripts run: a few worker processes, off the server's event loop.

xlwings-server runs a sync script on its event loop, so one long Validate stalled every other
request (the task pane, other agencies) and one process used one core. Here the event loop only
moves bytes: each request's body goes to an idle worker process, which does everything else —
parse and check the payload, `xw.Book(json=...)`, the script (through xlwings' own
`custom_scripts_call`, so arguments are injected as xlwings-server does), `book.json()` — and
sends back the answer's bytes.

A worker runs one script at a time, from the body to the answer: xlwings' remote App sends
app-level actions (alerts, the task pane callback) to the book opened last, so two scripts in
one process at once could swap answers; one per process can't. A script that runs past the time
limit has its worker killed and replaced and its request answered with a plain message; a worker
that dies is replaced too, and one that does not start is tried again after a pause; while no
worker runs and starting one keeps failing, requests are answered with a plain message, not kept
waiting.
"""


import asyncio
import json
import logging
import multiprocessing
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import AddinError

__all__ = ["NoWorker", "Outcome", "ScriptPool", "TimedOut", "WorkerDied", "script_endpoint"]

READY = "ready"


@dataclass
class Outcome:
    """A script's answer: the HTTP status and JSON body, and what the audit line records."""
    status: int
    body: bytes
    result: str                    # ok / stored / refused / error
    fingerprint: str | None = None
    crash: str | None = None       # an unexpected error's traceback, for the server log


logger = logging.getLogger("planvalidator.addin.workers")
RESTART_DELAYS = (1, 2, 5, 10, 30)   # seconds before starting again a worker that did not start


class TimedOut(Exception):
    pass


class NoWorker(Exception):
    """No worker is running and the last two attempts to start one failed."""


class WorkerDied(Exception):
    pass


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child,), daemon=True,
                                       name="planvalidator-script")
        self.process.start()
        child.close()

    def ready(self) -> None:
        """Wait until it has imported and warmed up (so its first script isn't timed on that)."""
        if self.conn.recv() != READY:
            raise WorkerDied("the worker did not start")

    def call(self, job: tuple) -> Outcome:
        try:
            self.conn.send(job)
            return self.conn.recv()
        except (EOFError, OSError):
            raise WorkerDied(f"worker {self.process.pid} died "
                             f"(exit code {self.process.exitcode})") from None

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class ScriptPool:
    """`processes` workers; `run` waits for an idle one, so at most that many scripts run at
    once and the rest queue in arrival order."""

    def __init__(self, processes: int, time_limit: float):
        self.processes, self.time_limit = processes, time_limit
        self._context = multiprocessing.get_context("spawn")   # no inherited event loop or locks
        self._threads = ThreadPoolExecutor(processes * 2, thread_name_prefix="script-pipe")
        self._idle: asyncio.Queue | None = None
        self._running = 0         # workers started and not killed
        self._failed_starts = 0   # starts that failed since a worker last started

    def start(self) -> None:
        """Start the workers (once; from the serving event loop, whose queue holds them)."""
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self.processes):
                self._start_worker()

    def _start_worker(self, attempt: int = 0) -> None:
        worker = _Worker(self._context)
        loop = asyncio.get_running_loop()

        async def when_ready():
            try:
                await loop.run_in_executor(self._threads, worker.ready)
            except (WorkerDied, EOFError, OSError):
                worker.kill()
                self._failed_starts += 1
                delay = RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)]
                logger.error("A script worker did not start (exit code %s); trying again in "
                             "%d s.", worker.process.exitcode, delay)
                await asyncio.sleep(delay)
                self._start_worker(attempt + 1)
                return
            self._running += 1
            self._failed_starts = 0
            await self._idle.put(worker)
        asyncio.ensure_future(when_ready())

    async def run(self, script: str, body: bytes, user: dict) -> Outcome:
        """Run `script` on the workbook `body` sent by `user` (id, name, roles). Raises TimedOut
        past the time limit and WorkerDied when the worker went away; either way the worker
        is replaced. Raises NoWorker when no worker runs and none can be started."""
        self.start()
        worker = await self._free_worker()
        while not worker.process.is_alive():   # died while idle (killed, out of memory)
            self._stop(worker)
            worker = await self._free_worker()
        loop = asyncio.get_running_loop()
        try:
            outcome = await asyncio.wait_for(
                loop.run_in_executor(self._threads, worker.call, (script, body, user)),
                self.time_limit)
        except (asyncio.TimeoutError, WorkerDied) as e:
            self._stop(worker)
            if isinstance(e, WorkerDied):
                raise
            raise TimedOut() from None
        await self._idle.put(worker)
        return outcome

    def _stop(self, worker: "_Worker") -> None:
        """Kill a worker and start its replacement."""
        worker.kill()
        self._running -= 1
        self._start_worker()

    async def _free_worker(self) -> "_Worker":
        while True:
            # twice in a row: a broken install or config, not one worker killed as it started
            if self._idle.empty() and not self._running and self._failed_starts >= 2:
                raise NoWorker()
            try:   # look again each second: a worker may fail to start meanwhile
                return await asyncio.wait_for(self._idle.get(), 1)
            except asyncio.TimeoutError:
                continue


def script_endpoint(pool: ScriptPool, authenticate):
    """xlwings-server's custom-scripts-call (POST .../custom-scripts-call/{script_name}), with
    the script run by `pool`; the token is checked and the script name looked up first. The
    token is checked by a call, not a FastAPI dependency: while the app has dependency
    overrides (xlwings-server's authenticate is one), FastAPI inspects every dependency's
    signature again on every request."""
    from fastapi import Request
    from fastapi.responses import Response
    from .config import BadRequest, NotFound, Unavailable
    from .server import EMPTY_BODY, SCRIPTS, server_error

    async def call_script(script_name: str, request: Request):
        user = await authenticate(request)
        if script_name not in SCRIPTS:
            raise NotFound(f"There is no add-in command '{script_name[:40]}'.")
        body = await request.body()   # bounded by the body limit; parsed by the worker
        if not body:
            raise BadRequest(EMPTY_BODY)
        try:
            outcome = await pool.run(script_name, body, user.model_dump())
        except TimedOut:
            raise Unavailable(
                f"Checking this workbook took longer than {pool.time_limit:g} seconds, so the "
                "server stopped. Nothing in your workbook was changed. Delete unused rows and "
                "sheets and try again; if it keeps happening, tell the performance office."
            ) from None
        except NoWorker:
            raise Unavailable(
                "The Performance Plan server has no worker to check your workbook right "
                "now. Nothing in your workbook was changed. Try again in a minute; if it keeps "
                "happening, tell the performance office.") from None
        except WorkerDied as e:
            return server_error(request, str(e))
        if outcome.crash:
            return server_error(request, outcome.crash)
        request.state.result, request.state.fingerprint = outcome.result, outcome.fingerprint
        return Response(outcome.body, status_code=outcome.status, media_type="application/json")
    return call_script


# ---- the worker process ----------------------------------------------------------------------

def _work(conn) -> None:
    """A worker's life: import once, then run one job at a time until the server goes away."""
    import signal
    import sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the server ends its workers, not Ctrl+C
    from .config import runtime
    from .server import PROJECT_DIR
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import custom_scripts   # the scripts module xlwings-server calls, from the project folder
    _warm_up()
    loop = asyncio.new_event_loop()
    limits = runtime().config.limits
    try:
        conn.send(READY)
        while True:
            job = conn.recv()
            conn.send(_run(loop, custom_scripts, limits, *job))
    except (EOFError, OSError):   # the server went away
        return


def _warm_up() -> None:
    """Validate each year's template, pre-filled for an agency, once: a fresh worker's first
    Validate then doesn't compile the schema and set up pandera's checks (0.4 s on a quiet
    machine, several on a busy one: its request would be slow or even hit the time limit)."""
    import tempfile
    from pathlib import Path
    from ..output.atomic import save_workbook
    from ..output.templates import build_workbook
    from ..rules.validate import validate_workbook
    from ..schema.loader import available_years, load_schema
    try:
        with tempfile.TemporaryDirectory(prefix="planvalidator-warm-up-") as folder:
            for year in available_years():
                schema = load_schema(year)
                path = Path(folder) / f"fy{year}.xlsx"
                save_workbook(build_workbook(schema, sorted(schema.agencies)[0]), path)
                validate_workbook(path)
    except Exception:   # only a head start: a worker that can't warm up (no temporary
        pass            # folder, a --schemas year without agencies) still serves


def _run(loop, module, limits, script: str, body: bytes, user: dict) -> Outcome:
    import xlwings as xw
    from xlwings.server import custom_scripts_call
    from xlwings_server.models import CurrentUser, User
    from .config import BadRequest
    from .server import parse_body

    try:
        data = parse_body(body, limits)
        args = data.pop("args", None)
        if args is not None and not isinstance(args, list):
            raise BadRequest("'args' must be a JSON array")
        current = User(**user)
        book = xw.Book(json=data)
        try:
            done = loop.run_until_complete(custom_scripts_call(
                module, script, current, typehint_to_value={CurrentUser: current, xw.Book: book},
                args=args or []))
            answer = done.json()
        finally:
            book.close()
    except AddinError as e:
        return _refusal(e.status, str(e))
    except xw.XlwingsError as e:
        if type(e).__name__ == "LicenseError":
            return Outcome(500, b"", "error", crash=traceback.format_exc())
        return _refusal(400, str(e))
    except Exception:   # a bug: the server logs it with a reference, the analyst gets a sentence
        return Outcome(500, b"", "error", crash=traceback.format_exc())
    receipt = _receipt(answer)
    result = "ok"
    if script == "submit":
        result = "stored" if receipt else "refused"
    return Outcome(200, json.dumps(answer).encode(), result,
                   fingerprint=receipt and receipt.get("sha256"))


def _refusal(status: int, message: str) -> Outcome:
    return Outcome(status, json.dumps({"detail": message}).encode(),
                   "error" if status >= 500 else "refused")


def _receipt(answer: dict) -> dict | None:
    """The receipt the task pane was handed (Submit's, when the plan was stored)."""
    from .session import CLIENT_CALLBACK
    for action in answer.get("actions", []):
        if action.get("func") == "runMacro" and action["args"][0] == CLIENT_CALLBACK:
            return (action["args"][1] or {}).get("receipt")
    return None
