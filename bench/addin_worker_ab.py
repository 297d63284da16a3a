"""CPU time of one Validate in a script worker: this checkout against another, interleaved.

    python bench/addin_worker_ab.py --against PATH [--pairs 4] [--rounds 20] [--batch 20]
                                    [--out bench/RESULTS-addin-worker.md]

The machine is shared (other sessions run tests and benchmarks on the same 2 CPUs), so a
latency run says little about a change of a few per cent. Here two warm processes, one per
checkout (each imports its own planvalidator through PYTHONPATH), take turns: each runs
`--batch` Validates of the same request body through `workers._run`, in-process, as a script
worker runs a request (parse and check the payload, `xw.Book`, read and validate the plan, the
marks, the answer JSON), and reports the CPU time (time.process_time) per request of that batch.
Taking turns, both sides share whatever else the machine does. Two processes of the same code
can differ by a few per cent (where their memory lies), so `--pairs` fresh pairs of processes
each take `--rounds` turns. The results are the medians of all batches, each pair's ratio, and
whether both answers are the same bytes.

The body is bench/addin_latency.py's: the 120-measure FY2028 plan of bench/corpus.py (BCHD,
seed 2028, ~10% of the rows with a mistake) as xlwings' Office.js client posts it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ["Agency", "Services", "Measures", "_planvalidator", "Validation"]


def child(body_path: Path) -> None:
    """One side: warm up, say the answer's SHA-256, then time the batches asked on stdin."""
    import asyncio
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    os.environ["PLANVALIDATOR_CONFIG"] = ""
    os.environ["PLANVALIDATOR_STORE"] = tempfile.mkdtemp(prefix="addin-ab-")
    from planvalidator.addin import config, server, workers
    server._xlwings_environment(config.runtime().config)
    sys.path.insert(0, str(server.PROJECT_DIR))
    import custom_scripts   # the scripts module the workers run, as workers._work imports it

    body = body_path.read_bytes()
    loop, limits = asyncio.new_event_loop(), config.runtime().config.limits
    user = {"id": "office", "name": "office", "roles": ["office"]}

    def run():
        return workers._run(loop, custom_scripts, limits, "validate", body, user)

    answer = run()
    if answer.status != 200:
        raise SystemExit(f"HTTP {answer.status}: {answer.body[:300]!r} {answer.crash or ''}")
    for _ in range(10):
        run()
    print(hashlib.sha256(answer.body).hexdigest(), flush=True)
    for line in sys.stdin:
        n = int(line)
        start = time.process_time()
        for _ in range(n):
            run()
        print(f"{(time.process_time() - start) / n * 1000:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True,
                        help="the other checkout (its root folder)")
    parser.add_argument("--pairs", type=int, default=4, help="fresh pairs of processes")
    parser.add_argument("--rounds", type=int, default=20, help="turns of each pair")
    parser.add_argument("--batch", type=int, default=20, help="requests per turn")
    parser.add_argument("--out", type=Path, help="write the results here (Markdown)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)

    sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]
    import officejs   # tests/officejs.py: what the Office.js client sends
    from corpus import make_plan
    from planvalidator.output.atomic import save_workbook
    from planvalidator.schema.loader import load_schema

    with tempfile.TemporaryDirectory() as tmp:
        workbook = Path(tmp) / "fy2028-BCHD-120.xlsx"
        save_workbook(make_plan(load_schema(2028), "BCHD", 120, 0.10, random.Random(2028)),
                      workbook)
        body = Path(tmp) / "body.json"
        body.write_bytes(officejs.body(workbook, INCLUDE))
        sides = {"this": ROOT, "other": args.against.resolve()}
        times: dict[str, list[float]] = {name: [] for name in sides}
        ratios, answers = [], {}
        for _ in range(args.pairs):
            turns = _pair(sides, body, args.rounds, args.batch, answers)
            for name in sides:
                times[name] += turns[name]
            ratios.append(statistics.median(turns["this"]) / statistics.median(turns["other"]))

    this, other = (statistics.median(times[k]) for k in ("this", "other"))
    table = "\n".join([
        f"| checkout | CPU ms per Validate (median of {args.pairs} × {args.rounds} batches of "
        f"{args.batch}) |",
        "|---|---:|",
        f"| this ({_commit(ROOT)}) | {this:.2f} |",
        f"| other ({_commit(args.against)}) | {other:.2f} |",
        "",
        f"This / other: **{this / other:.3f}** (medians); each pair of processes: "
        f"{', '.join(f'{r:.3f}' for r in ratios)}. Answers "
        f"{'byte-identical' if answers['this'] == answers['other'] else 'DIFFERENT'}"
        f" (SHA-256 {answers['this'][:12]}… and {answers['other'][:12]}…). Load average "
        f"{os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} CPUs."])
    print(table)
    if args.out:
        command = " ".join(["python", "bench/addin_worker_ab.py", *sys.argv[1:]])
        args.out.write_text(f"""# Excel add-in backend: CPU of one Validate in a script worker, A/B

Written by `bench/addin_worker_ab.py` ({time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}).
Reproduce, from the repository root, with the other checkout at PATH:

```sh
{command}
```

Two warm processes, one per checkout, take turns running the same Validate request through
`workers._run` in-process (what a script worker does for a request), each turn a batch; a
batch's CPU time per request is one sample. See the script's docstring for why.

{table}
""", encoding="utf-8")
        print(f"wrote {args.out}")


def _pair(sides: dict[str, Path], body: Path, rounds: int, batch: int, answers: dict) -> dict:
    """One fresh process per side, taking `rounds` turns: {side: CPU ms per request of each
    batch}; `answers` gets each side's answer SHA-256."""
    procs = {name: subprocess.Popen(
        [sys.executable, __file__, "--against", str(root), "--child", str(body)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"})
        for name, root in sides.items()}
    answers.update({name: p.stdout.readline().strip() for name, p in procs.items()})
    times: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(rounds):
        for name in (("other", "this") if r % 2 == 0 else ("this", "other")):
            procs[name].stdin.write(f"{batch}\n")
            procs[name].stdin.flush()
            times[name].append(float(procs[name].stdout.readline()))
    for p in procs.values():
        p.stdin.close()
        p.wait()
    return times


def _commit(root: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip() or "not a git checkout"


if __name__ == "__main__":
    main()
