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
from pathlib import Path

from profile_validate import print_profile  # bench/profile_validate.py

BENCH = Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=BENCH / "corpus" / "city60")
    parser.add_argument("--schema", type=Path, default=BENCH / "corpus" / "schema" / "fy2028.yaml")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from planvalidator.citywide.consolidated.write import write_consolidated
    from planvalidator.citywide.merge import merge_files
    from planvalidator.schema.loader import load_schema
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
    print_profile(pstats.Stats(profiler), args.top, calls=1, what="one merge + write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
