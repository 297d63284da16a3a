"""Validate round trip over HTTP: the Excel add-in backend on loopback.

    python bench/addin_latency.py [--measures 120] [--requests 300] [--workers 1] [--seed 2028]

Starts `planvalidator serve` on 127.0.0.1 (a free port, a throw-away store and config), builds a
filled FY2028 plan workbook with bench/corpus.py's make_plan (BCHD, ~10% of measure rows with a
typical mistake; `--bad 0` for a clean one), turns it into the exact JSON body xlwings' Office.js
client posts (tests/officejs.py), and times POST /xlwings/custom-scripts-call/validate from
sending the request to having read the whole answer (the actions Excel replays):

- 1 client: requests one after another on one keep-alive connection;
- 16 clients: 16 connections sending at once, each its next request as soon as it has an answer.

Every answer is checked: status 200 and the findings it carries. Prints a Markdown table.

    python bench/addin_latency.py --phases

times instead, in-process, the steps one Validate request goes through on the server (median
of 100): what the HTTP round trip adds on top is uvicorn, FastAPI and xlwings-server.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, workers: int) -> tuple[subprocess.Popen, str]:
    config = home / "addin.yaml"
    config.write_text(f'tokens:\n  "{TOKEN}": office\n', encoding="utf-8")
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


def check(response: httpx.Response, expected: list) -> None:
    if response.status_code != 200:
        raise SystemExit(f"HTTP {response.status_code}: {response.text[:300]}")
    shown = next(a["args"][1] for a in response.json()["actions"]
                 if a["func"] == "runMacro" and a["args"][0] == "planvalidatorShow")
    if shown["report"]["findings"] != expected:
        raise SystemExit("The answer's findings differ from `validate` on the file.")


def one_client(url: str, body: bytes, n: int, expected) -> list[float]:
    times = []
    with httpx.Client(base_url=url, headers={"Authorization": TOKEN}, timeout=60) as client:
        for _ in range(n):
            start = time.perf_counter()
            response = client.post(PATH, content=body)
            response.read()
            times.append(time.perf_counter() - start)
            check(response, expected)
    return times


async def many_clients(url: str, body: bytes, clients: int, n: int, expected) -> tuple[list[float], float]:
    times: list[float] = []
    per_client = -(-n // clients)

    async def client_loop():
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": TOKEN},
                                     timeout=120) as client:
            for _ in range(per_client):
                start = time.perf_counter()
                response = await client.post(PATH, content=body)
                await response.aread()
                times.append(time.perf_counter() - start)
                check(response, expected)

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return times, time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k] * 1000


def phases(workbook: Path, include: list[str], repeat: int = 100) -> None:
    """Median time of each step of one Validate request, in-process."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    os.environ["PLANVALIDATOR_CONFIG"] = ""
    from planvalidator import server
    server._xlwings_environment(server.runtime().config)
    import xlwings as xw
    from planvalidator import addin
    from planvalidator.read.payload import Limits, check_payload, plan_sheets
    from planvalidator.read.plan import read_plan
    from planvalidator.rules.validate import validate_plan

    body = officejs.body(workbook, include)
    data = check_payload(json.loads(body), Limits())
    names, sheets = plan_sheets(data, addin.PLAN_SHEETS)
    plan = read_plan(names, sheets, workbook.name)
    report = validate_plan(plan)

    def actions():
        book = xw.Book(json=json.loads(body))
        session = addin.Session(book)
        session.show("validate", report)
        session.annotate(report)
        book.app.alert("x", title="Validate", buttons="ok", mode="info")
        out = json.dumps(book.json())
        book.close()
        return out

    steps = [
        ("parse JSON and check limits", lambda: check_payload(json.loads(body), Limits())),
        ("xw.Book(json=payload)", lambda: xw.Book(json=json.loads(body)).close()),
        ("payload → sheet rows", lambda: plan_sheets(data, addin.PLAN_SHEETS)),
        ("read_plan (core)", lambda: read_plan(names, sheets, workbook.name)),
        ("validate_plan (core)", lambda: validate_plan(plan)),
        ("actions + answer JSON", actions),
    ]
    print("| step | median (ms) |\n|---|---:|")
    total = 0.0
    for label, step in steps:
        step()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        median = statistics.median(times) * 1000
        total += median
        print(f"| {label} | {median:.1f} |")
    print(f"| **sum** | **{total:.1f}** |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measures", type=int, default=120)
    parser.add_argument("--bad", type=float, default=0.10, help="share of measure rows with a mistake")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--seed", type=int, default=2028)
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
        proc, url = start_server(home, args.workers)
        try:
            meta = httpx.get(url + "/xlwings/custom-scripts-meta.json").json()
            include = next(m["include"] for m in meta if m["function_name"] == "validate")
            body = officejs.body(workbook, include.split(","))   # what the ribbon sends
            one_client(url, body, 30, expected)                       # warm-up
            single = one_client(url, body, args.requests, expected)
            asyncio.run(many_clients(url, body, args.clients, args.clients * 4, expected))
            concurrent, wall = asyncio.run(
                many_clients(url, body, args.clients, args.requests, expected))
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Validate round trip, {args.measures}-measure workbook ({len(expected)} findings), "
          f"request body {len(body) / 1024:.0f} KiB, {args.workers} server process(es); "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.2f}\n")
    print("| clients | requests | p50 (ms) | p95 (ms) | p99 (ms) | mean (ms) | requests/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| 1 | {len(single)} | {pct(single, 50):.1f} | {pct(single, 95):.1f} | "
          f"{pct(single, 99):.1f} | {statistics.mean(single) * 1000:.1f} | "
          f"{len(single) / sum(single):.1f} |")
    print(f"| {args.clients} | {len(concurrent)} | {pct(concurrent, 50):.1f} | "
          f"{pct(concurrent, 95):.1f} | {pct(concurrent, 99):.1f} | "
          f"{statistics.mean(concurrent) * 1000:.1f} | {len(concurrent) / wall:.1f} |")


if __name__ == "__main__":
    main()
