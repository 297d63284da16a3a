"""Where an in-process merge of a whole city spends its time (cProfile).

    python bench/profile_merge.py [bench/corpus/city60] [--schema bench/corpus/schema/fy2028.yaml] [--top 15]

Warm: one unprofiled merge + write first (imports, schema compiled, checks registered), timed,
then one profiled merge (`merge_files(..., jobs=1)`) + `write_consolidated`. Prints the time of
each phase, the self time grouped by where the code lives, then the top functions by
cumulative and by self time. Times under cProfile are inflated: compare shares.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from profile_validate import area  # bench/profile_validate.py

BENCH = Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=BENCH / "corpus" / "city60")
    parser.add_argument("--schema", type=Path, default=BENCH / "corpus" / "schema" / "fy2028.yaml")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from planvalidator.consolidated import write_consolidated
    from planvalidator.merge import merge_files
    from planvalidator.schema import load_schema
    schema = load_schema(path=args.schema)
    t_import = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "city.xlsx"
        t0 = time.perf_counter()
        cons = merge_files([args.folder], out, schema=schema)
        t1 = time.perf_counter()
        write_consolidated(cons, out)
        t2 = time.perf_counter()
        print(f"imports + schema {t_import:.2f} s; cold merge {t1 - t0:.2f} s, write {t2 - t1:.2f} s")
        t0 = time.perf_counter()
        cons = merge_files([args.folder], out, schema=schema)
        t1 = time.perf_counter()
        write_consolidated(cons, out)
        t2 = time.perf_counter()
        print(f"warm: merge (read + validate) {t1 - t0:.2f} s, write {t2 - t1:.2f} s "
              f"({len(cons.submissions)} files)")

        profiler = cProfile.Profile()
        profiler.enable()
        cons = merge_files([args.folder], out, schema=schema)
        write_consolidated(cons, out)
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt

    by_area = defaultdict(float)
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():
        by_area[area(filename, function)] += tottime
    print(f"\nself time by area (profiled; total {total:.2f} s):")
    for name, t in sorted(by_area.items(), key=lambda kv: -kv[1]):
        if t / total >= 0.01:
            print(f"  {t * 1000:8.0f} ms {t / total:6.1%}  {name}")

    def show(key, title):
        print(f"\ntop {args.top} by {title} (ms, one profiled merge + write):")
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][key])[:args.top]
        for (filename, line, function), (cc, nc, tottime, cumtime, _) in rows:
            where = f"{area(filename, function)}:{line}" if filename != "~" else area(filename, function)
            print(f"  self {tottime * 1000:7.0f}  cum {cumtime * 1000:7.0f}  calls {nc:>7}  "
                  f"{function}  [{where}]")
    show(3, "cumulative time")
    show(2, "self time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
