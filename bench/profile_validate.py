"""Where planvalidator's read + validate of one workbook spends its time (cProfile).

    python bench/profile_validate.py bench/corpus/fy2028-BCHD-120-valid.xlsx [--calls 30] [--top 10]

Warm, like bench/run.py: one call first, then `--calls` profiled calls of validate_workbook.
Prints the self time grouped by where the code lives (planvalidator modules, pandas, pandera,
numpy, calamine, re, ...), then the top functions by self time and by cumulative time.
Times under cProfile are inflated (roughly 1.5-2× for Python-heavy code): compare shares.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path


def area(filename: str, function: str) -> str:
    """A short name for where a profiled function lives."""
    if "/planvalidator/" in filename:
        return "planvalidator/" + Path(filename).name
    for package in ("pandera", "pandas", "numpy", "openpyxl", "defusedxml", "yaml"):
        if f"/{package}/" in filename:
            return package
    if filename == "~":  # a builtin: name it by what it is a method of
        if "re.Pattern" in function:
            return "re (regex engine)"
        if "Calamine" in function:
            return "python-calamine"
        if "zlib" in function:
            return "zlib"
        if "numpy" in function:
            return "numpy"
        return "builtins"
    return Path(filename).name


def print_profile(stats: pstats.Stats, top: int, calls: int, what: str) -> None:
    """Self time by area, then the top functions by self and by cumulative time, in ms per call."""
    total = stats.total_tt
    by_area = defaultdict(float)
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():
        by_area[area(filename, function)] += tottime
    print(f"\nself time by area (profiled, {what}; total {total / calls * 1000:.1f} ms):")
    for name, t in sorted(by_area.items(), key=lambda kv: -kv[1]):
        if t / total >= 0.005:
            print(f"  {t / calls * 1000:8.2f} ms {t / total:6.1%}  {name}")
    for key, title in ((2, "self time"), (3, "cumulative time")):
        print(f"\ntop {top} by {title} (ms {what}):")
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][key])[:top]
        for (filename, line, function), (cc, nc, tottime, cumtime, _) in rows:
            where = f"{area(filename, function)}:{line}" if filename != "~" else area(filename, function)
            print(f"  self {tottime / calls * 1000:8.2f}  cum {cumtime / calls * 1000:8.2f}"
                  f"  calls {nc // calls:>7}  {function}  [{where}]")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)

    from planvalidator.rules.validate import validate_workbook

    report = validate_workbook(args.file)  # warm: imports, schema compiled, checks registered
    times = []
    for _ in range(args.calls):
        t0 = time.perf_counter()
        validate_workbook(args.file)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(f"{args.file.name}: {report.errors} errors, {report.warnings} warnings; "
          f"unprofiled median {times[len(times) // 2]:.1f} ms over {args.calls} calls")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.calls):
        validate_workbook(args.file)
    profiler.disable()
    print_profile(pstats.Stats(profiler), args.top, calls=args.calls,
                  what="per validate_workbook call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
