"""Benchmark: publishing a whole city (60 agencies) as a website, beside the merge that made
its consolidated plan; writes bench/RESULTS-publish.md.

    python bench/publish_bench.py [--repeat 7] [--seed 2028]

In a scratch folder it builds bench/merge_corpus.py's city60 (60 agencies, ~120 measures each,
one agency in four with mistakes, which publish leaves out as under revision), then times, as
separate processes and interleaved, --repeat times each:

- `planvalidator merge --schema … city60/ -o citywide.xlsx` (the peer), and
- `planvalidator publish --schemas … citywide.xlsx -o site/` (the website and its open data).

Wall-clock medians and the CPU time of each process (user + system, from the children's
rusage: the shared machine's load inflates the wall clock, not the CPU time). Every publish
must give the same bytes. The figures in RESULTS-publish.md are written by this script only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from merge_corpus import main as make_corpus  # noqa: E402
from results import p90  # noqa: E402

TARGET_S = 5.0


def timed(argv: list[str], ok: tuple[int, ...]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `argv` as a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2028)
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS-publish.md")
    args = parser.parse_args(argv)
    exe = str(Path(sys.executable).with_name("planvalidator"))
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        make_corpus(["--out", str(work), "--copies", "0", "--seed", str(args.seed)])
        schema = work / "schema"
        consolidated, site = work / "citywide.xlsx", work / "site"
        runs = {
            "merge": [exe, "merge", "--schema", str(schema / "fy2028.yaml"), str(work / "city60"),
                      "-o", str(consolidated), "-q"],
            "publish": [exe, "publish", "--schemas", str(schema), str(consolidated), "-o",
                        str(site)],
        }
        timed(runs["merge"], (0, 1))   # the consolidated plan, and a warm disk cache
        said = subprocess.run(runs["publish"], capture_output=True, text=True, check=True).stdout
        # publish's own words, without the scratch folder's path nor a second full stop
        said = " ".join(said.replace(str(work) + "/", "").split()).rstrip(".")
        first = digest(site)
        load_start = os.getloadavg()[0]
        wall = {k: [] for k in runs}
        cpu = {k: [] for k in runs}
        for _ in range(args.repeat):
            for name, run in runs.items():
                w, c = timed(run, (0, 1) if name == "merge" else (0,))
                wall[name].append(w)
                cpu[name].append(c)
            assert digest(site) == first, "publish gave different bytes for the same plan"
        load_end = os.getloadavg()[0]
        pages = sum(1 for _ in site.glob("*.html"))
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    shown = [" ".join(["planvalidator"] + r[1:]).replace(str(work) + "/", "") for r in runs.values()]
    lines = [
        "# Benchmark results: publish (the public website)", "",
        f"Written by `bench/publish_bench.py` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} "
        "UTC — do not edit by hand; rerun to update.", "",
        "Reproduce (from the repository root, with the project's virtualenv active):", "",
        "```sh", f"python bench/publish_bench.py --repeat {args.repeat} --seed {args.seed}", "```", "",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}; "
        f"shared with other jobs (load average {load_start:.2f} at the start, {load_end:.2f} at "
        f"the end): the wall clock is inflated by them, the CPU time is not.", "",
        f"What is published: bench/merge_corpus.py's city60 merged — {said}. "
        f"The site: {pages} pages, {size / 1e6:.1f} MB with its open data. Every one of the "
        f"{args.repeat} publishes gave the same bytes.", "",
        "Commands: " + "; ".join(f"`{s}`" for s in shown), "",
        f"## Whole process (s, {args.repeat} runs each, interleaved)", "",
        "| command | wall median | wall p90 | CPU median |", "|---|---:|---:|---:|",
    ]
    for name in runs:
        lines.append(f"| {name} | {med[name]:.2f} | {p90(wall[name]):.2f} | {med_cpu[name]:.2f} |")
    verdict = "under" if med["publish"] < TARGET_S else "**over**"
    lines += ["", f"Publish / merge: {med['publish'] / med['merge']:.2f} (wall), "
              f"{med_cpu['publish'] / med_cpu['merge']:.2f} (CPU). Publishing 60 agencies: "
              f"{med['publish']:.2f} s wall, {verdict} the {TARGET_S:.0f} s asked for "
              f"({med_cpu['publish']:.2f} s of CPU)."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
