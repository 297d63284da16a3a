"""Benchmark: read + validate of one workbook by two versions of planvalidator, side by side.

Writes the `versions` section of bench/RESULTS.md (bench/results.py; other sections stay).

    python bench/corpus.py && python bench/versions.py --before 924d78a [--file fy2028-BCHD-120-valid.xlsx]

The `--before` commit is exported with `git archive` into a temporary folder; the working tree
is the "after". Each round runs one worker process per version (the order alternating), which
imports that version's planvalidator, validates the file once to warm up, then times `--repeat`
calls of `validate_workbook(path)` in-process. Both versions read the same file with the same
installed packages. The machines are shared and noisy: read the ratio of the medians, measured
in interleaved rounds, not the absolute times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from results import median, write_section  # bench/results.py

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LIMIT = 1.10   # the after/before ratio a refactoring may cost at most


def worker(tree: Path, path: Path, repeat: int) -> None:
    """Runs inside a child whose sys.path starts with `tree`: times validate_workbook(path)."""
    import gc

    import planvalidator
    assert Path(planvalidator.__file__).resolve().is_relative_to(tree.resolve()), planvalidator.__file__
    from planvalidator import validate_workbook
    found = len(validate_workbook(path).findings)
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        validate_workbook(path)
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"found": found, "times": times}))


def export(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "planvalidator",
                              "schemas", "templates"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_worker(tree: Path, path: Path, repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{BENCH}")
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(tree),
                          str(path), str(repeat)], env=env, cwd=tree, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="924d78a", help="Git revision measured as 'before'.")
    parser.add_argument("--file", default="fy2028-BCHD-120-valid.xlsx", help="A workbook of bench/corpus/.")
    parser.add_argument("--corpus", type=Path, default=BENCH / "corpus")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30, help="Timed calls per worker.")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]), int(args.worker[2]))
        return 0

    path = (args.corpus / args.file).resolve()
    if not path.exists():
        parser.error(f"{path} does not exist: run `python bench/corpus.py` first")
    started = dt.datetime.now(dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": export(args.before, Path(tmp)), "after": ROOT}
        times = {name: [] for name in trees}
        found = {}
        for r in range(args.rounds):
            for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
                result = run_worker(trees[name], path, args.repeat)
                times[name] += result["times"]
                found[name] = result["found"]
            print(f"round {r + 1}/{args.rounds}: before {median(times['before']):.2f} ms, "
                  f"after {median(times['after']):.2f} ms", flush=True)
    med = {name: median(t) for name, t in times.items()}
    ratio = med["after"] / med["before"]
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    verdict = "met" if ratio <= LIMIT else "**not met**"
    body = "\n".join([
        "## Versions: read + validate, before and after a change",
        "",
        f"Command: `python bench/corpus.py && python bench/versions.py --before {args.before} "
        f"--file {args.file} --rounds {args.rounds} --repeat {args.repeat}`",
        "",
        f"Run {started:%Y-%m-%dT%H:%MZ} on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"after = the working tree at {head}. {args.rounds} interleaved rounds × {args.repeat} "
        "in-process calls of `validate_workbook` per version, one worker process per round.",
        "",
        "| version | median ms | findings |",
        "|---|---|---|",
        f"| before ({args.before}) | {med['before']:.2f} | {found['before']} |",
        f"| after ({head}) | {med['after']:.2f} | {found['after']} |",
        "",
        f"after / before = **{ratio:.3f}** (limit {LIMIT:.2f}: {verdict}).",
    ])
    write_section(args.out, "versions", body)
    print(f"after/before {ratio:.3f} ({verdict}); wrote the 'versions' section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
