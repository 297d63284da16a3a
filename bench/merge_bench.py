"""Benchmark: merging a whole city, `planvalidator merge` side by side with the plain script
(bench/merge_script.py), in one run; then 6,000 workbooks with `--jobs 2`.

    python bench/merge_corpus.py && python bench/merge_bench.py [--repeat 12] [--scale-repeat 3]
        [--scale-files 1000 --scale-files 2000 …]

Writes the `merge` section of bench/RESULTS.md (bench/results.py; other sections stay).

1. city60 (60 agencies, ~120 measures each): whole-process wall time of
   `planvalidator merge bench/corpus/city60 -o OUT --schema bench/corpus/schema/fy2028.yaml`
   and of `python bench/merge_script.py bench/corpus/city60 OUT`, run through subprocess,
   interleaved (A B, B A, A B, ...; one dropped warm-up round that also fills the file cache),
   median and p90 of --repeat runs each, and their ratio, in wall time and in CPU time; the
   import floor `python -c "import pandas, pandera.pandas"` is timed in the same rounds and
   every figure is also shown above it. Peak memory of each run is the
   child's own ru_maxrss (both are one process here).
2. city6000 (100 submissions per agency): `planvalidator merge … --jobs 2`, --scale-repeat
   runs (of the first N files for each --scale-files N, to show memory does not grow with the
   count): wall time, CPU and peak memory of the whole process tree. The tree is found from
   /proc/*/stat (parent pids) every 0.25 s and the VmRSS of each of its processes is summed
   every 50 ms: that sum is the figure. Forked workers share pages with the parent (copy on
   write), so the RSS sum counts them more than once; the sum of PSS (smaps_rollup, shared pages
   split between their users) is printed beside it, and the largest single process's
   ru_maxrss (what `/usr/bin/time` would say) as a lower bound.

The machines are shared and noisy: read the ratios measured side by side, never one absolute
time. Nothing here is a test; RESULTS.md is written by this script, never by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from results import (compile_source, median, p90, source_fingerprint,  # bench/results.py
                     source_note, write_section)
import deflate_levels  # bench/deflate_levels.py

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGETS = {"above_floor_s": 0.6, "ratio": 3.0, "scale_cpu_s": 45.0, "scale_mib": 400.0}
FLOOR = "python -c 'import pandas, pandera.pandas'"
MiB = 1024 * 1024


# --- statistics ---------------------------------------------------------------------------------



# --- running one command ------------------------------------------------------------------------

def _descendants(root: int) -> list[int]:
    """root and every process below it, from the parent pids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _kib(path: str, field: bytes) -> int:
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Polls the summed RSS (and PSS) of a process tree until stopped; keeps the peaks."""

    def __init__(self, root: int, interval: float = 0.05, rescan: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.interval, self.rescan = root, interval, rescan
        self.peak_rss = self.peak_pss = 0  # KiB
        self.seen: set[int] = set()
        self.samples = 0
        self._done = threading.Event()

    def run(self):
        pids, scanned = [self.root], 0.0
        while not self._done.is_set():
            now = time.monotonic()
            if now - scanned >= self.rescan:
                pids, scanned = _descendants(self.root), now
                self.seen.update(pids)
            rss = sum(_kib(f"/proc/{p}/status", b"VmRSS:") for p in pids)
            pss = sum(_kib(f"/proc/{p}/smaps_rollup", b"Pss:") for p in pids)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.samples += 1
            self._done.wait(self.interval)

    def stop(self):
        self._done.set()
        self.join()


def run(argv: list[str], ok=(0,), tree: bool = False) -> dict:
    """Run a command to completion: wall time (s), its ru_maxrss and, with tree, the tree's peaks."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT)
        poller = TreeMemory(proc.pid) if tree else None
        if poller:
            poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if poller:
            poller.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{stderr[-3000:]}")
    # wait4's usage includes the processes the child waited for (merge's workers)
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
              "maxrss_mib": usage.ru_maxrss / 1024, "stdout": stdout}
    if poller:
        result |= {"tree_rss_mib": poller.peak_rss / 1024, "tree_pss_mib": poller.peak_pss / 1024,
                   "processes": len(poller.seen), "samples": poller.samples}
    return result


def planvalidator_exe() -> list[str]:
    exe = Path(sys.executable).parent / "planvalidator"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "planvalidator"]


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- what each reported -----------------------------------------------------------------------

def pv_found(stdout: str) -> dict:
    total = re.search(r"^Total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", stdout, re.M)
    measures, missing, errors, warnings = map(int, total.groups())
    superseded = re.findall(r"^Superseded: (\S+) \((\w+)\) by (\S+)(?: — .*)?$", stdout, re.M)
    return {"measures": measures, "errors": errors, "warnings": warnings,
            "superseded": len(superseded), "winners": {a: w for _, a, w in superseded}}


def script_found(stdout: str) -> dict:
    m = re.search(r"(\d+) agencies, (\d+) measures, (\d+) failure cases", stdout)
    return {"agencies": int(m[1]), "measures": int(m[2]), "failure_cases": int(m[3])}


# --- the two runs -------------------------------------------------------------------------------

def city(corpus: Path, schema: Path, repeat: int, tmp: Path) -> dict:
    folder = corpus / "city60"
    commands = {
        "planvalidator": (planvalidator_exe() + ["merge", str(folder), "-o", str(tmp / "pv.xlsx"),
                                                 "--schema", str(schema)], (0, 1)),
        "script": ([sys.executable, str(BENCH / "merge_script.py"), str(folder),
                    str(tmp / "script.xlsx")], (0,)),
    }
    floors = {
        "python -c pass": [sys.executable, "-c", "pass"],
        FLOOR: [sys.executable, "-c", "import pandas, pandera.pandas"],
    }
    names = list(commands)
    times = {n: [] for n in names + list(floors)}
    cpu = {n: [] for n in names + list(floors)}
    rss = {n: [] for n in names}
    found = {}
    for rep in range(repeat + 1):  # round 0 warms the file cache and is dropped
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            argv, ok = commands[name]
            r = run(argv, ok)
            if rep == 0:
                found[name] = (pv_found if name == "planvalidator" else script_found)(r["stdout"])
                continue
            times[name].append(r["wall"])
            cpu[name].append(r["cpu"])
            rss[name].append(r["maxrss_mib"])
        for label, argv in floors.items():
            r = run(argv)
            if rep:
                times[label].append(r["wall"])
                cpu[label].append(r["cpu"])
        if rep:
            print(f"  round {rep}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names),
                  flush=True)
    paired = [s / p for s, p in zip(times["script"], times["planvalidator"])]
    return {"times": times, "cpu": cpu, "rss": rss, "found": found, "paired_ratios": paired,
            "argv": {n: commands[n][0] for n in names},
            "deflate": deflate_levels.measure(tmp / "pv.xlsx")}


def scale(corpus: Path, schema: Path, repeat: int, jobs: int, tmp: Path,
          counts: list[int]) -> dict:
    """The scale merge of `counts` files each (the first ones by name; all of them by default):
    summed RSS that stays flat as the count grows is what bounded chunks promise."""
    manifest = json.loads((corpus / "merge-manifest.json").read_text())
    info = manifest["scale"][0]
    folder = corpus / info["folder"]
    files = sorted(folder.glob("*.xlsx"))
    runs = []
    for count in counts or [len(files)]:
        sources = [str(folder)] if count >= len(files) else [str(f) for f in files[:count]]
        argv = planvalidator_exe() + ["merge", *sources, "-o", str(tmp / "pv-scale.xlsx"),
                                      "--schema", str(schema), "--jobs", str(jobs)]
        for rep in range(repeat):
            r = run(argv, (0, 1), tree=True)
            found = pv_found(r["stdout"])
            r.pop("stdout")
            expected = {e["agency"]: e["scale_winner"] for e in manifest["city60"]}
            r["files"] = min(count, len(files))
            r["superseded"] = found["superseded"]
            r["winners_ok"] = (found["winners"] == {a: w for a, w in expected.items()
                                                    if a in found["winners"]}
                               if count >= len(files) else None)   # a subset's differ
            r["errors"] = found["errors"]
            runs.append(r)
            print(f"  {r['files']} files --jobs {jobs}, run {rep + 1}: {r['wall']:.1f} s, "
                  f"CPU {r['cpu']:.1f} s, tree RSS {r['tree_rss_mib']:.0f} MiB, "
                  f"PSS {r['tree_pss_mib']:.0f} MiB, largest process {r['maxrss_mib']:.0f} MiB, "
                  f"{r['processes']} processes, {r['superseded']} superseded, winners "
                  f"{_winners(r)}", flush=True)
    return {"files": len(files), "folder": folder, "jobs": jobs, "runs": runs,
            "counts": sorted({r["files"] for r in runs})}


# --- RESULTS.md ---------------------------------------------------------------------------------

def _versions() -> str:
    parts = []
    for package in ("planvalidator", "openpyxl", "python-calamine", "pandas", "pandera"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    return ", ".join(parts) + (f"; source at git {rev}" if rev else "")


def _winners(run: dict) -> str:
    return {True: "as expected", False: "WRONG", None: "(a subset)"}[run["winners_ok"]]


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def write_results(path: Path, args, c: dict, s: dict | None, started, load) -> None:
    t, cpu = c["times"], c["cpu"]
    pv, sc = t["planvalidator"], t["script"]
    ratio_of_medians = median(sc) / median(pv)
    cpu_ratio = median(cpu["script"]) / median(cpu["planvalidator"])
    floor = median(t[FLOOR])

    def above(xs):   # what a command costs beyond importing pandas and pandera
        return median(xs) - floor
    schema = rel(args.schema)
    reproduce = (f"python bench/merge_corpus.py --seed {args.seed} && python bench/merge_bench.py "
                 f"--repeat {args.repeat} --scale-repeat {args.scale_repeat} --jobs {args.jobs}"
                 + "".join(f" --scale-files {n}" for n in args.scale_files))
    fp, fs = c["found"]["planvalidator"], c["found"]["script"]
    lines = [
        "## Merge a whole city: `planvalidator merge` and a plain script",
        "",
        f"Written by `bench/merge_bench.py` on {started:%Y-%m-%d %H:%M} UTC — do not edit by "
        "hand; rerun to update.",
        "",
        "Reproduce (from the repository root, with the project's virtualenv active):",
        "",
        "```sh",
        reproduce,
        "```",
        "",
        "The commands timed:",
        "",
        "```sh",
        f"planvalidator merge bench/corpus/city60 -o OUT.xlsx --schema {schema}",
        "python bench/merge_script.py bench/corpus/city60 OUT.xlsx",
        f"planvalidator merge bench/corpus/{s['folder'].name} -o OUT.xlsx --schema {schema} "
        f"--jobs {args.jobs}" if s else "(scale run skipped)",
        "```",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; shared and noisy "
        f"(load average {load[0]:.2f} at the start, {load[1]:.2f} at the end). "
        "Read the ratios, measured side by side in the same run; never trust one absolute time.",
        "",
        f"Versions: {_versions()}. {source_note(*args.source)}",
        "",
        "Method: `bench/merge_corpus.py` (seeded) writes a bench schema (the FY2028 schema with "
        "a catalog of the 13 real agencies plus 47 synthetic ones) and `city60/`: one real "
        f"template per agency filled by `bench/corpus.py`'s `make_plan`, {fp['measures']:,} "
        "measures in all (~120 each); 45 agencies clean, 15 with 2-10% of their rows carrying "
        "a typical mistake. The plain script (`bench/merge_script.py`) is what an analyst "
        "would write without planvalidator: python-calamine reads each file, a pandera "
        "DataFrameSchema (lazy) validates its Measures rows, openpyxl writes Summary, Measures "
        "and Findings. planvalidator merge also reads the Agency and Services sheets in full, "
        "applies every rule (cross-sheet ones too), records SHA-256 and provenance of each "
        "source and writes seven sheets (Summary, Measures, Services, Findings, By Pillar, "
        "Dashboard with a chart, Sources), atomically. Both are timed as whole processes "
        f"(interpreter start and imports included), interleaved A B, B A, …, {args.repeat} "
        "runs each after one dropped warm-up round. *paired ratio*: script time ÷ "
        "planvalidator time of the same round, whose median is robust to a noisy round.",
        "",
        "Where planvalidator's merge time goes: `python bench/profile_merge.py` (cProfile).",
        "",
        f"### city60: 60 agencies, whole process (s, {args.repeat} runs each, interleaved)",
        "",
        "*above the floor*: the median minus the median of "
        f"`{FLOOR}` measured in the same rounds. *CPU*: user + system time of the process "
        "(and of any it waited for).",
        "",
        "| command | median | p90 | above the floor | CPU (median) | peak RSS (MiB, median) "
        "| found |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| `planvalidator merge city60` | {median(pv):.2f} | {p90(pv):.2f} | {above(pv):.2f} "
        f"| {median(cpu['planvalidator']):.2f} | {median(c['rss']['planvalidator']):.0f} "
        f"| {fp['errors']} errors, {fp['warnings']} warnings |",
        f"| `python bench/merge_script.py city60` | {median(sc):.2f} | {p90(sc):.2f} "
        f"| {above(sc):.2f} | {median(cpu['script']):.2f} | {median(c['rss']['script']):.0f} "
        f"| {fs['failure_cases']} failure cases |",
    ]
    for label in t:
        if label not in ("planvalidator", "script"):
            lines.append(f"| `{label}` (floor) | {median(t[label]):.2f} | {p90(t[label]):.2f} "
                         f"| {above(t[label]):.2f} | {median(cpu[label]):.2f} | | |")
    lines += [
        "",
        f"Script ÷ planvalidator: **{ratio_of_medians:.2f}×** whole process (ratio of the "
        f"medians; paired ratios median {median(c['paired_ratios']):.2f}×, lowest "
        f"{min(c['paired_ratios']):.2f}×, highest {max(c['paired_ratios']):.2f}×), "
        f"**{cpu_ratio:.2f}×** CPU; above the floor "
        f"{above(sc) / above(pv) if above(pv) > 0 else float('inf'):.2f}×.",
        "",
    ]
    from planvalidator.citywide.consolidated.write import DEFLATE_LEVEL
    lines += deflate_levels.lines(c["deflate"], DEFLATE_LEVEL)
    if s:
        runs = s["runs"]
        lines += [
            f"### Up to {s['files']:,} workbooks (100 submissions per agency), `--jobs {s['jobs']}`",
            "",
            f"Each agency's {s['files'] // 60} submissions are its city60 workbook with only the "
            "Agency sheet's Submission Date rewritten in the zip (`bench/merge_corpus.py`), so "
            "the latest wins and the others are superseded; a count below "
            f"{s['files']:,} merges the first files by name. Memory: the process "
            "tree (parent and worker processes) polled every 50 ms; *RSS sum* counts pages "
            "the forked workers share with the parent once per process, *PSS sum* splits "
            "them; *largest process* is the biggest single ru_maxrss (a lower bound). *CPU*: "
            "user + system time of the parent and its workers.",
            "",
            "| files | wall (s) | CPU (s) | peak RSS sum (MiB) | peak PSS sum (MiB) "
            "| largest process (MiB) | processes | superseded | winners |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in runs:
            lines.append(f"| {r['files']:,} | {r['wall']:.1f} | {r['cpu']:.1f} "
                         f"| {r['tree_rss_mib']:.0f} | {r['tree_pss_mib']:.0f} "
                         f"| {r['maxrss_mib']:.0f} | {r['processes']} "
                         f"| {r['superseded']:,} | {_winners(r)} |")
        lines.append("")
    full = [r for r in s["runs"] if r["files"] == s["files"]] if s else []
    largest = [r for r in s["runs"] if r["files"] == max(s["counts"])] if s else []
    lines += [
        "### Targets",
        "",
        f"- city60 ≥ {TARGETS['ratio']:g}× the plain script on the same files, whole process: "
        f"{_verdict(ratio_of_medians >= TARGETS['ratio'])} — {ratio_of_medians:.2f}× "
        f"(paired median {median(c['paired_ratios']):.2f}×); CPU: "
        f"{_verdict(cpu_ratio >= TARGETS['ratio'])} — {cpu_ratio:.2f}×.",
        f"- city60 time above the import floor ≤ {TARGETS['above_floor_s']:g} s: "
        f"{_verdict(above(pv) <= TARGETS['above_floor_s'])} — {above(pv):.2f} s "
        f"({median(pv):.2f} s − {floor:.2f} s); in CPU "
        f"{median(cpu['planvalidator']) - median(cpu[FLOOR]):.2f} s above the floor's CPU.",
    ]
    if full:
        cpu_s = median([r["cpu"] for r in full])
        lines.append(f"- {s['files']:,} workbooks with `--jobs {s['jobs']}` ≤ "
                     f"{TARGETS['scale_cpu_s']:g} s CPU: "
                     f"{_verdict(cpu_s <= TARGETS['scale_cpu_s'])} — {cpu_s:.1f} s median "
                     f"({median([r['wall'] for r in full]):.1f} s wall).")
    if largest:
        mem = median([r["tree_rss_mib"] for r in largest])
        pss = median([r["tree_pss_mib"] for r in largest])
        lines.append(f"- … in ≤ {TARGETS['scale_mib']:g} MiB summed RSS: "
                     f"{_verdict(mem <= TARGETS['scale_mib'])} — {mem:.0f} MiB summed over "
                     f"the process tree ({pss:.0f} MiB PSS) with {largest[0]['files']:,} files"
                     + ("" if full else " (the full count not run)") + ".")
    lines.append("")
    write_section(path, "merge", "\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12,
                        help="Timed runs of each city60 command (default 12).")
    parser.add_argument("--scale-repeat", type=int, default=3,
                        help="Runs of the 6,000-workbook merge (default 3; 0 skips it).")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the scale run (default 2).")
    parser.add_argument("--scale-files", type=int, action="append", default=[],
                        help="Merge only the first N scale files (repeatable: 1000, 2000, …); "
                             "default all.")
    parser.add_argument("--corpus", type=Path, default=BENCH / "corpus")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--json", action="store_true", help="Also write the raw figures as JSON.")
    args = parser.parse_args(argv)
    manifest = args.corpus / "merge-manifest.json"
    if not manifest.exists():
        raise SystemExit(f"No merge corpus in {args.corpus}: run python bench/merge_corpus.py first.")
    meta = json.loads(manifest.read_text())
    args.seed = meta["seed"]
    args.schema = args.corpus / meta["schema"]
    started = dt.datetime.now(dt.timezone.utc)
    load_start = os.getloadavg()[0]
    compile_source()
    args.source = [source_fingerprint()]
    with tempfile.TemporaryDirectory(prefix="merge-bench-") as tmp:
        print(f"city60, {args.repeat} interleaved rounds:", flush=True)
        c = city(args.corpus, args.schema, args.repeat, Path(tmp))
        t = c["times"]
        print(f"city60: planvalidator {median(t['planvalidator']):.2f} s, script "
              f"{median(t['script']):.2f} s median → {median(t['script']) / median(t['planvalidator']):.2f}×",
              flush=True)
        s = None
        if args.scale_repeat and meta["scale"]:
            s = scale(args.corpus, args.schema, args.scale_repeat, args.jobs, Path(tmp),
                      args.scale_files)
    args.source.append(source_fingerprint())
    write_results(args.out, args, c, s, started, (load_start, os.getloadavg()[0]))
    if args.json:
        raw = {"date": f"{started:%Y-%m-%dT%H:%M}Z", "city60": {k: c[k] for k in
               ("times", "cpu", "rss", "found", "paired_ratios")},
               "scale": s and {"files": s["files"], "jobs": s["jobs"], "runs": s["runs"]}}
        args.out.with_name("RESULTS-merge.json").write_text(json.dumps(raw, indent=1) + "\n")
    print(f"wrote the merge section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
