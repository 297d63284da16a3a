"""CPU time and peak memory of `validate` (text, --format json, --annotate) and `merge` on the hostile plans of
tests/hostile_plans.py (issue 10: < 5 s CPU and < 500 MiB for any plan within the reader's caps).

    python bench/hostile_bounds.py [--repeat 3] [--out bench/RESULTS-hostile.md]

Each command runs as a child process (as an analyst or the office runs it); its user + system
CPU seconds and peak resident memory come from the kernel (os.wait4). Medians over --repeat
runs. The peer is the same command on a plain plan (the bundled bcfd-plan-fy2028-clean.xlsx):
the ratio column is a plan's CPU over the peer's for the same command.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile_plans import BUILDERS  # noqa: E402

GOOD = ("bpd-plan-fy2028-not-in-list.xlsx", "mocfs-plan-fy2028-unknown-service.xlsx")


def measured(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, peak MiB) of `planvalidator *args`, its worker processes included."""
    proc = subprocess.Popen([sys.executable, "-m", "planvalidator", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode in (0, 1, 2), (args, proc.returncode)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-hostile.md")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    plans = {"(peer) bcfd-plan-fy2028-clean": ROOT / "examples" / "bcfd-plan-fy2028-clean.xlsx"}
    for name, build in BUILDERS.items():
        build(work / f"{name}.xlsx")
        plans[name] = work / f"{name}.xlsx"
    rows, peer = [], {}
    for name, path in plans.items():
        folder = work / f"merge-{path.stem}"
        folder.mkdir()
        shutil.copy(path, folder)
        for good in GOOD:
            shutil.copy(ROOT / "examples" / good, folder)
        for door, args in (("validate", ["validate", str(path)]),
                           ("validate --format json", ["validate", "--format", "json", str(path)]),
                           ("validate --annotate", ["validate", "--annotate",
                                                    str(work / "checked.xlsx"), str(path)]),
                           ("merge", ["merge", str(folder), "-o", str(work / "c.xlsx"), "-q"])):
            runs = [measured(args) for _ in range(opts.repeat)]
            cpu = statistics.median(r[0] for r in runs)
            mib = statistics.median(r[1] for r in runs)
            peer.setdefault(door, cpu)   # the peer is measured first
            rows.append(f"| {name} | {door} | {cpu:.2f} | {cpu / peer[door]:.1f} | {mib:.0f} |")
            print(rows[-1], flush=True)
    shutil.rmtree(work)
    load = os.getloadavg()[0]
    opts.out.write_text("\n".join([
        "# Hostile plans: CPU and memory per command", "",
        f"`python bench/hostile_bounds.py --repeat {opts.repeat}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} while it ran; medians of "
        f"{opts.repeat} runs. Target (issue 10): < 5 s CPU, < 500 MiB.", "",
        "| plan | command | CPU s | ratio to peer | peak MiB |", "|---|---|---:|---:|---:|", *rows, ""]))


if __name__ == "__main__":
    main()
