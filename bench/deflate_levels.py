"""The deflate level of the consolidated workbook, chosen by measurement (bench/merge_bench.py
writes the table into bench/RESULTS.md; alone: `python bench/deflate_levels.py OUT.xlsx`).

Every part of a consolidated workbook (city60: ~8 MB of sheet XML) is compressed as
output/atomic.workbook_bytes does it (raw deflate, one compressor per part) at each zlib level,
`repeat` times: the median time and the compressed size. Only the zip container depends on the
level; the parts are the same bytes at any level.
"""

from __future__ import annotations

import statistics
import sys
import time
import zlib
from pathlib import Path
from zipfile import ZipFile

LEVELS = (1, 2, 3, 4, 5, 6, 9)
DEFAULT = 6   # zlib's default (Z_DEFAULT_COMPRESSION), what the workbook was written with before


def measure(workbook: Path, repeat: int = 5) -> list[dict]:
    with ZipFile(workbook) as z:
        parts = [z.read(name) for name in z.namelist()]
    rows = []
    for level in LEVELS:
        times, size = [], 0
        for _ in range(repeat):
            t0, size = time.perf_counter(), 0
            for data in parts:
                c = zlib.compressobj(level, zlib.DEFLATED, -15)
                size += len(c.compress(data)) + len(c.flush())
            times.append(time.perf_counter() - t0)
        rows.append({"level": level, "ms": statistics.median(times) * 1000, "kb": size / 1024})
    return [r | {"raw_mb": sum(map(len, parts)) / 2**20} for r in rows]


def lines(rows: list[dict], chosen: int, repeat: int = 5) -> list[str]:
    base = next(r for r in rows if r["level"] == DEFAULT)
    out = [f"### Deflate level of the consolidated workbook (city60: {rows[0]['raw_mb']:.1f} MiB "
           f"of parts, median of {repeat} compressions each)", "",
           "| zlib level | compress (ms) | ÷ level 6 | size (KiB) | ÷ level 6 |",
           "|---:|---:|---:|---:|---:|"]
    for r in rows:
        mark = " (chosen)" if r["level"] == chosen else " (zlib's default)" if r["level"] == DEFAULT else ""
        out.append(f"| {r['level']}{mark} | {r['ms']:.0f} | {r['ms'] / base['ms']:.2f} "
                   f"| {r['kb']:,.0f} | {r['kb'] / base['kb']:.2f} |")
    return out + [""]


if __name__ == "__main__":
    from planvalidator.citywide.consolidated.write import DEFLATE_LEVEL
    print("\n".join(lines(measure(Path(sys.argv[1])), DEFLATE_LEVEL)))
