"""Validate round trip over HTTP: the Excel add-in backend on loopback.

    python bench/addin_latency.py [--measures 120] [--requests 300] [--runs 3] [--processes 2]
                                  [--out bench/RESULTS-addin.md]

Starts `planvalidator serve` on 127.0.0.1 (a free port, a throw-away store and config), builds a
filled FY2028 plan workbook with bench/corpus.py's make_plan (BCHD, ~10% of measure rows with a
typical mistake; `--bad 0` for a clean one), turns it into the exact JSON body xlwings' Office.js
client posts (tests/officejs.py), and times POST /xlwings/custom-scripts-call/validate from
sending the request to having read the whole answer (the actions Excel replays):

- 1 client: requests one after another on one keep-alive connection;
- 16 clients: 16 connections sending at once, each its next request as soon as it has an answer.

The load generator shares the CPUs with the server, so it is as light as a client can be: raw
HTTP/1.1 on asyncio streams (httpx's AsyncClient cost ~21 ms of CPU a request, this ~0.6 ms).
Every answer is checked after the timed run: status 200 and the findings it carries. Each
scenario runs `--runs` times on the same server; the results file (`--out`, rewritten whole)
lists every run and the medians, with the CPU milliseconds each request cost the server's
event-loop process, its script workers and the load generator (/proc/PID/stat), the
machine, its load average, whether the target is met and the command that reproduces it.

    python bench/addin_latency.py --phases

times instead, in-process, the CPU each step of one Validate request costs a script worker
(median of 100) and the whole request as the worker runs it: what the HTTP round trip adds on
top is the event loop's part (uvicorn, FastAPI, xlwings-server, the pipe to the worker).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import officejs  # noqa: E402  (tests/officejs.py: what the Office.js client sends)
from corpus import make_plan  # noqa: E402

from planvalidator.output.atomic import save_workbook  # noqa: E402
from planvalidator.schema.loader import load_schema  # noqa: E402
from planvalidator.rules.validate import validate_workbook  # noqa: E402

TOKEN = "bench-office-token-" + "b" * 24
PATH = "/xlwings/custom-scripts-call/validate"
TARGET_P95 = 250.0   # ms, 16 clients (issue 11 item 9)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, workers: int, processes: int) -> tuple[subprocess.Popen, str]:
    config = home / "addin.yaml"
    config.write_text(f'tokens:\n  "{TOKEN}": office\nprocesses: {processes}\n'
                      f'audit_log: audit.jsonl\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "XLWINGS_LICENSE_KEY": os.environ.get("XLWINGS_LICENSE_KEY") or "noncommercial"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "planvalidator", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--store", str(home / "store"), "--config", str(config), "--workers", str(workers)],
        cwd=home, env=env, stdout=open(home / "server.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit((home / "server.log").read_text(errors="replace"))


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the load generator shares the
    2 CPUs with the server, so it does the least a client can (httpx's AsyncClient cost ~21 ms
    of CPU a request, which the server then didn't get)."""

    def __init__(self, url: str):
        self.host, port = url.rsplit("//", 1)[1].split(":")
        self.port = int(port)
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: {TOKEN}"
                          f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
                          f"\r\n\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def check(answers: list[tuple[int, bytes]], expected: list) -> None:
    """Every answer is a 200 carrying the findings `validate` gives for the file (checked after
    the timed run, so the check's CPU is not taken from the server while it runs)."""
    for status, body in answers:
        if status != 200:
            raise SystemExit(f"HTTP {status}: {body[:300]!r}")
        shown = next(a["args"][1] for a in json.loads(body)["actions"]
                     if a["func"] == "runMacro" and a["args"][0] == "planvalidatorShow")
        if shown["report"]["findings"] != expected:
            raise SystemExit("The answer's findings differ from `validate` on the file.")


async def clients(url: str, body: bytes, count: int, n: int) -> tuple[list[float], float, list]:
    """`count` connections at once, each sending its next request as soon as it has an answer,
    `n` requests in all; the round trips, the wall time and the answers."""
    times: list[float] = []
    answers: list[tuple[int, bytes]] = []
    per_client = -(-n // count)

    async def client_loop():
        connection = Connection(url)
        try:
            for _ in range(per_client):
                start = time.perf_counter()
                answer = await connection.post(PATH, body)
                times.append(time.perf_counter() - start)
                answers.append(answer)
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(count)))
    return times, time.perf_counter() - start, answers


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
            for c in (task / "children").read_text().split()]


def server_processes(pid: int) -> dict[str, list[int]]:
    """The server's processes: those that serve HTTP (the process itself and, with --workers,
    uvicorn's) and the script workers (the ones with no children of their own)."""
    found = {"event loop": [], "workers": []}
    todo = [pid]
    while todo:
        p = todo.pop()
        below = children(p)
        found["event loop" if below or p == pid else "workers"].append(p)
        todo += below
    return found


def measured(url: str, server_pid: int, body: bytes, count: int, n: int, expected):
    """One timed scenario; also the CPU milliseconds per request of the server's event-loop
    process, its script workers and this load generator."""
    pids = {**server_processes(server_pid), "load generator": [os.getpid()]}
    before = {k: sum(map(cpu_seconds, v)) for k, v in pids.items()}
    times, wall, answers = asyncio.run(clients(url, body, count, n))
    if server_processes(server_pid)["workers"] != pids["workers"]:
        raise SystemExit("A script worker was replaced during the run; its CPU is not counted.")
    cpu = {k: (sum(map(cpu_seconds, v)) - before[k]) / len(times) * 1000 for k, v in pids.items()}
    check(answers, expected)
    return times, wall, cpu


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k] * 1000


def phases(workbook: Path, include: list[str], repeat: int = 100) -> None:
    """Median CPU time of each step of one Validate request in a script worker, in-process:
    CPU time (not wall time), since other processes share the machine. The last line is the
    whole request as the worker runs it (workers._run: the steps above, xlwings' script call
    and the pickled answer)."""
    import pickle
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    os.environ["PLANVALIDATOR_CONFIG"] = ""
    os.environ["PLANVALIDATOR_STORE"] = tempfile.mkdtemp(prefix="addin-phases-")
    from planvalidator.addin import config, server, workers
    server._xlwings_environment(config.runtime().config)
    sys.path.insert(0, str(server.PROJECT_DIR))
    import custom_scripts   # the scripts module the workers run, as workers._work imports it
    import xlwings as xw
    from planvalidator.addin import session as addin
    from planvalidator.read.payload import plan_sheets
    from planvalidator.read.plan import read_plan
    from planvalidator.rules.validate import validate_plan

    limits = config.runtime().config.limits
    body = officejs.body(workbook, include)
    data = server.parse_body(body, limits)
    names, sheets = plan_sheets(data, addin.PLAN_SHEETS)
    plan = read_plan(names, sheets, workbook.name)
    report = validate_plan(plan)
    user = {"id": "office", "name": "office", "roles": ["office"]}
    loop = asyncio.new_event_loop()

    def book():
        return xw.Book(json=server.parse_body(body, limits))

    def session():
        return addin.Session(book())

    def mark(s):   # what scripts.validate does after validating
        s.unlock_structure(adding=True)
        s.show("validate", report)
        s.annotate(report)
        s.book.app.alert("x", title="Validate", buttons="ok", mode="info")

    def marked():
        s = session()
        mark(s)
        return s.book

    steps = [   # (label, setup or None, step taking what setup made)
        ("parse JSON and check limits", None, lambda _: server.parse_body(body, limits)),
        ("xw.Book(json=payload)", lambda: server.parse_body(body, limits),
         lambda d: xw.Book(json=d).close()),
        ("Session: payload → sheet rows, our marks", book, addin.Session),
        ("read_plan (core)", None, lambda _: read_plan(names, sheets, workbook.name)),
        ("validate_plan (core)", None, lambda _: validate_plan(plan)),
        ("marks → actions (task pane, fills, notes, Validation sheet)", session, mark),
        ("answer JSON", marked, lambda b: json.dumps(b.json()).encode()),
        ("the whole request in the worker (workers._run)", None, lambda _: pickle.dumps(
            workers._run(loop, custom_scripts, limits, "validate", body, user))),
    ]
    print("| step | median CPU (ms) |\n|---|---:|")
    for label, setup, step in steps:
        times = []
        for i in range(repeat + 3):
            made = setup() if setup else None
            start = time.process_time()
            step(made)
            if i >= 3:   # the first runs warm up
                times.append(time.process_time() - start)
            if isinstance(made, xw.Book):
                made.close()
            elif isinstance(made, addin.Session):
                made.book.close()
        print(f"| {label} | {statistics.median(times) * 1000:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measures", type=int, default=120)
    parser.add_argument("--bad", type=float, default=0.10, help="share of measure rows with a mistake")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per run")
    parser.add_argument("--runs", type=int, default=3, help="repeats of each scenario")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="script worker processes (config key `processes`)")
    parser.add_argument("--seed", type=int, default=2028)
    parser.add_argument("--out", type=Path, help="write the results here (Markdown)")
    parser.add_argument("--phases", action="store_true",
                        help="time the server-side steps in-process instead")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        workbook = home / f"fy2028-BCHD-{args.measures}.xlsx"
        save_workbook(make_plan(load_schema(2028), "BCHD", args.measures, args.bad,
                                random.Random(args.seed)), workbook)
        expected = validate_workbook(workbook).as_dict()["findings"]
        if args.phases:
            return phases(workbook, ["Agency", "Services", "Measures", "_planvalidator",
                                     "Validation"])
        load_before = os.getloadavg()[0]
        proc, url = start_server(home, args.workers, args.processes)
        rows = []
        try:
            meta = httpx.get(url + "/xlwings/custom-scripts-meta.json").json()
            include = next(m["include"] for m in meta if m["function_name"] == "validate")
            body = officejs.body(workbook, include.split(","))   # what the ribbon sends
            measured(url, proc.pid, body, 1, 30, expected)                      # warm-up
            measured(url, proc.pid, body, args.clients, args.clients * 4, expected)
            for run in range(1, args.runs + 1):
                for count in (1, args.clients):
                    rows.append((run, count, *measured(url, proc.pid, body, count,
                                                       args.requests, expected)))
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    load = os.getloadavg()[0]
    lines = [f"Validate round trip, {args.measures}-measure workbook ({len(expected)} findings), "
             f"request body {len(body) / 1024:.0f} KiB; {args.workers} uvicorn process(es), "
             f"{args.processes} script process(es); {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}; load average {load_before:.2f} before, "
             f"{load:.2f} after.", "",
             "| run | clients | requests | p50 (ms) | p95 (ms) | p99 (ms) | requests/s "
             "| CPU ms/request: event loop | workers | load generator |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run, count, times, wall, cpu in rows:
        lines.append(f"| {run} | {count} | {len(times)} | {pct(times, 50):.1f} | "
                     f"{pct(times, 95):.1f} | {pct(times, 99):.1f} | {len(times) / wall:.1f} | "
                     + " | ".join(f"{ms:.1f}" for ms in cpu.values()) + " |")
    p95 = {}
    for count in (1, args.clients):
        mine = [(times, wall, cpu) for _, c, times, wall, cpu in rows if c == count]
        p95[count] = statistics.median(pct(t, 95) for t, _, _ in mine)
        lines.append(f"| **median** | {count} | {len(mine[0][0])} | "
                     f"**{statistics.median(pct(t, 50) for t, _, _ in mine):.1f}** | "
                     f"**{p95[count]:.1f}** | "
                     f"{statistics.median(pct(t, 99) for t, _, _ in mine):.1f} | "
                     f"{statistics.median(len(t) / w for t, w, _ in mine):.1f} | "
                     + " | ".join(f"{statistics.median(c[k] for _, _, c in mine):.1f}"
                                  for k in mine[0][2]) + " |")
    met = p95[args.clients] <= TARGET_P95
    lines += ["", f"**Target ({args.clients} clients, p95 ≤ {TARGET_P95:.0f} ms): "
                  f"{'met' if met else 'not met'}** (median p95 {p95[args.clients]:.1f} ms)."]
    table = "\n".join(lines)
    print(table)
    if args.out:
        write_results(args, table)


def write_results(args, table: str) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    command = " ".join(["python", "bench/addin_latency.py", *sys.argv[1:]])
    args.out.write_text(f"""# Excel add-in backend: Validate round trip over HTTP

Written by `bench/addin_latency.py` ({time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
git {commit}). Reproduce, from the repository root with `pip install -e '.[bench]'`:

```sh
{command}
```

`planvalidator serve` on 127.0.0.1 with `processes: {args.processes}` (scripts run in that many
worker processes, off the event loop), a {args.measures}-measure FY2028 plan built by
`bench/corpus.py` (BCHD, seed {args.seed}), and the exact body xlwings' Office.js client posts
for it. A round trip is from sending the request to having read the whole answer; every answer
is checked against `planvalidator validate` on the file. 1 client: one keep-alive connection,
back to back. {args.clients} clients: {args.clients} connections at once, each sending its next
request as soon as it has an answer. The load generator shares the machine with the server,
so it is the lightest client there is (raw HTTP/1.1 on asyncio streams, answers checked after
the timed run: about 0.6 ms of CPU a request, where httpx's AsyncClient took about 21 ms
here, measured side by side on 2026-12-02, so the old numbers charged the server for
the client); the load average says how busy the machine was otherwise (other sessions share these CPUs).
Target (issue 11 item 9): {args.clients} clients, p95 ≤ 250 ms.

*CPU ms/request* is user + system CPU per request (/proc/PID/stat) of the server's event-loop
process (HTTP, FastAPI, xlwings-server, auth, the audit line, the pipe to the workers), its
script workers together (parse the body, `xw.Book`, read and validate the plan, the actions,
the answer JSON) and the load generator. {args.clients} clients keep every CPU busy, so a round
trip can't be shorter than {args.clients} × (their sum) ÷ {os.cpu_count()} CPUs: the p95 target
needs the whole request to cost at most about {TARGET_P95 * os.cpu_count() / args.clients:.0f} ms of CPU. `python
bench/addin_latency.py --phases` splits the workers' part in-process.

{table}
""", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
