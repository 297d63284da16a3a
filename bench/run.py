"""Benchmark: validating one workbook, planvalidator side by side with its peers, in one run.

Writes the `validate` section of bench/RESULTS.md (bench/results.py; other sections stay).

    python bench/corpus.py && python bench/run.py [--repeat 30] [--process-repeat 20]

Contenders, each reading and validating the same workbook file:
- planvalidator: `validate_workbook(path)` in-process (read + validate every rule);
- frictionless: `frictionless.validate` of the Measures sheet (header row 3) against an
  equivalent Table Schema (types, enums, required, plus minimum 0, the ID pattern and unique);
- script: a plain python-calamine (the reader planvalidator uses too, so the ratio measures
  the validation, not the reader) + pandas + pandera DataFrameSchema script, lazy=True.

In-process timings are warm (imports done, schemas built, one warm-up call per file) and
interleaved per repetition, the starting contender rotating, so machine noise spreads over all
of them. Whole-process timings run the real commands through subprocess. The machines are
shared and noisy: read the ratios (measured side by side), not the absolute times.

Nothing here is a test: the figures in RESULTS.md are written by this script, never by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from results import (compile_source, median, p90, source_fingerprint,  # bench/results.py
                     source_note, write_section)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CONTENDERS = ("planvalidator", "frictionless", "script")
MEASURE_ID_PATTERN = r"[A-Z]{2,6}-\d{3}-\d{2}"
FISCAL_YEAR = 2028
TARGETS = {"pv_120_ms": 10.0, "ratio_120": 4.0, "ratio_400": 5.0, "help_ms": 150.0,
           "process_ratio": 1.2}
FLOOR = "python -c 'import pandas, pandera.pandas' (the import floor)"


# --- the contenders: each setup() does the imports and builds its schema once, and returns
# --- (run, found): run(path) reads and validates the file, found(its result) counts what it
# --- reported (outside the timing) ----------------------------------------------------------

def setup_planvalidator():
    from planvalidator.rules.validate import validate_workbook

    def found(report):
        return report.errors + report.warnings
    return validate_workbook, found


def frictionless_schema(schema) -> dict:
    """The Measures table of our schema as a Frictionless Table Schema descriptor (the one our
    open-data export publishes), with fields named by their header labels as in the sheet."""
    from planvalidator.output.opendata import table_field
    return {"fields": [{**table_field(c, schema), "name": c.label} for c in schema.measures.columns]}


def setup_frictionless():
    import frictionless
    from frictionless.formats import ExcelControl

    from planvalidator.schema.loader import load_schema

    table_schema = frictionless.Schema.from_descriptor(frictionless_schema(load_schema(FISCAL_YEAR)))

    def run(path):
        path = Path(path).resolve()
        dialect = frictionless.Dialect(header_rows=[3], skip_blank_rows=True,
                                       controls=[ExcelControl(sheet="Measures")])
        # frictionless refuses absolute paths ("not safe") unless they sit under basepath
        resource = frictionless.Resource(path.name, basepath=str(path.parent), format="xlsx",
                                         dialect=dialect, schema=table_schema)
        return frictionless.validate(resource)

    def found(report):
        broken = {"resource-error", "format-error", "scheme-error", "source-error",
                  "encoding-error", "schema-error", "dialect-error", "incorrect-label",
                  "missing-label", "extra-label", "blank-label", "duplicate-label"}
        kinds = {e.type for task in report.tasks for e in task.errors} | {
            e.type for e in report.errors}
        if kinds & broken:  # it did not get to check the data: the comparison would be void
            raise RuntimeError(f"frictionless could not check the sheet: {report.flatten(['type', 'note'])}")
        return report.stats["errors"]
    return run, found


def setup_script():
    import pandas as pd
    import pandera.pandas as pa
    from python_calamine import CalamineWorkbook

    from planvalidator.schema.loader import load_schema

    schema = load_schema(FISCAL_YEAR)
    columns = {}
    for column in schema.measures.columns:
        checks = []
        if column.list:
            checks.append(pa.Check.isin(list(schema.lists[column.list])))
        if "non_negative" in column.checks:
            checks.append(pa.Check.ge(0))
        if "measure_id_format" in column.checks:
            checks.append(pa.Check.str_matches(MEASURE_ID_PATTERN))
        dtype = {"integer": "Int64", "text": str}.get(column.type, float)
        columns[column.label] = pa.Column(dtype, checks=checks, coerce=True,
                                          nullable=column.required is not True,
                                          unique="unique" in column.checks)
    measures = pa.DataFrameSchema(columns)

    def run(path):
        with CalamineWorkbook.from_path(str(path)) as wb:
            rows = wb.get_sheet_by_name("Measures").to_python(skip_empty_area=False)
        header = rows[2]   # the header is on row 3
        data = [[None if v == "" else v for v in r] for r in rows[3:]]
        frame = pd.DataFrame([r for r in data if any(v is not None for v in r)], columns=header)
        try:
            measures.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as e:
            return e.failure_cases
        return None

    def found(failure_cases):
        return 0 if failure_cases is None else len(failure_cases)
    return run, found


SETUPS = {"planvalidator": setup_planvalidator, "frictionless": setup_frictionless,
          "script": setup_script}


# --- measuring --------------------------------------------------------------------------------



def in_process(files: list[dict], corpus: Path, repeat: int) -> list[dict]:
    runs, counts = {}, {}
    for name, setup in SETUPS.items():
        runs[name], counts[name] = setup()
    results = []
    for entry in files:
        path = corpus / entry["file"]
        found = {name: counts[name](run(path)) for name, run in runs.items()}  # the warm-up
        times = {name: [] for name in CONTENDERS}
        for rep in range(repeat):
            k = rep % len(CONTENDERS)
            for name in CONTENDERS[k:] + CONTENDERS[:k]:
                gc.collect()
                t0 = time.perf_counter()
                runs[name](path)
                times[name].append((time.perf_counter() - t0) * 1000)
        row = dict(entry, found=found,
                   median={n: median(t) for n, t in times.items()},
                   p90={n: p90(t) for n, t in times.items()})
        results.append(row)
        pv = row["median"]["planvalidator"]
        print(f"{entry['file']}: " + ", ".join(
            f"{n} {row['median'][n]:.1f} ms ({found[n]} found)" for n in CONTENDERS)
            + f"; frictionless/pv {row['median']['frictionless'] / pv:.1f}×, "
              f"script/pv {row['median']['script'] / pv:.1f}×", flush=True)
    return results


def console_script() -> list[str]:
    exe = Path(sys.executable).parent / "planvalidator"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "import sys; from planvalidator.cli import main; "
                                  "sys.argv[0] = 'planvalidator'; main()"]


def whole_process(corpus: Path, file120: str, repeat: int) -> list[dict]:
    """Median wall time of real commands, interleaved per repetition."""
    path = str(corpus / file120)
    me = [sys.executable, str(Path(__file__).resolve())]
    commands = [
        ("python -c pass (interpreter start, the floor)", [sys.executable, "-c", "pass"], None),
        (FLOOR, [sys.executable, "-c", "import pandas, pandera.pandas"], None),
        ("planvalidator --help", console_script() + ["--help"], 0),
        (f"planvalidator validate {file120}", console_script() + ["validate", path], 0),
        (f"run.py --once planvalidator {file120}", me + ["--once", "planvalidator", path], 0),
        (f"run.py --once frictionless {file120}", me + ["--once", "frictionless", path], 0),
        (f"run.py --once script {file120}", me + ["--once", "script", path], 0),
    ]
    times = {label: [] for label, _, _ in commands}
    for rep in range(repeat + 1):  # the first round warms the file cache and is dropped
        for label, argv, expect in commands:
            t0 = time.perf_counter()
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  cwd=ROOT)
            elapsed = (time.perf_counter() - t0) * 1000
            if expect is not None and done.returncode != expect:
                raise SystemExit(f"{label} exited {done.returncode}:\n{done.stderr.decode()}")
            if rep:
                times[label].append(elapsed)
    out = [{"command": label, "median": median(t), "p90": p90(t), "runs": len(t)}
           for label, t in times.items()]
    for row in out:
        print(f"{row['command']}: {row['median']:.0f} ms median", flush=True)
    return out


# --- RESULTS.md ---------------------------------------------------------------------------

def _versions() -> str:
    parts = []
    for package in ("planvalidator", "openpyxl", "python-calamine", "pandas", "pandera",
                    "frictionless"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = ""
    return ", ".join(parts) + (f"; source at git {rev}" if rev else "")


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def write_results(path: Path, args, files, results, processes, started, load) -> None:
    def ms(x):
        return f"{x:.1f}" if x < 100 else f"{x:.0f}"

    by = {(r["measures"], r["kind"]): r for r in results}
    lines = [
        "## Validate one workbook: planvalidator, frictionless and a plain script",
        "",
        f"Written by `bench/run.py` on {started:%Y-%m-%d %H:%M} UTC — do not edit by hand; "
        "rerun to update.",
        "",
        "Reproduce (from the repository root, with the project's virtualenv active):",
        "",
        "```sh",
        f"python bench/corpus.py --seed {args.seed} && python bench/run.py --repeat {args.repeat} "
        f"--process-repeat {args.process_repeat}",
        "```",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; shared and noisy "
        f"(load average {load[0]:.2f} at the start, {load[1]:.2f} at the end). "
        "Read the ratios, measured side by side in the same run; never trust one absolute time.",
        "",
        f"Versions: {_versions()}. {source_note(*args.source)}",
        "",
        "Method: each workbook is the real FY2028 template filled by `bench/corpus.py` (seeded); "
        "*bad* files have ~10% of measure rows with a typical mistake. In-process times are "
        "warm (imports done, schemas built once, one warm-up call per file), "
        f"{args.repeat} repetitions per file with the three contenders interleaved "
        "(the first one rotating) and `gc.collect()` before each call; each call reads the "
        "file from disk and validates it. *found*: what each reports on the file "
        "(planvalidator errors + warnings; frictionless errors; the script's pandera failure "
        "cases). frictionless and the script check the Measures sheet only; planvalidator "
        "also reads and checks the Agency and Services sheets and the cross-sheet rules.",
        "",
        "Where planvalidator's time goes: `python bench/profile_validate.py FILE` (cProfile).",
        "",
        "### In-process: read + validate one workbook (ms)",
        "",
        "| file | measures | planvalidator median (p90) | frictionless median (p90) "
        "| script median (p90) | frictionless / planvalidator | script / planvalidator "
        "| found (pv / fl / script) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        m, p, f = r["median"], r["p90"], r["found"]
        pv = m["planvalidator"]
        lines.append(
            f"| {r['file']} | {r['measures']} "
            + "".join(f"| {ms(m[n])} ({ms(p[n])}) " for n in CONTENDERS)
            + f"| {m['frictionless'] / pv:.1f}× | {m['script'] / pv:.1f}× "
            f"| {f['planvalidator']} / {f['frictionless']} / {f['script']} |")
    lines += [
        "",
        f"### Whole process (ms, {args.process_repeat} runs each, interleaved)",
        "",
        "`run.py --once NAME FILE` starts Python, imports one contender, and reads and "
        "validates the file once: the cold cost of each tool on the same file.",
        "",
        "| command | median | p90 | above the import floor |",
        "|---|---:|---:|---:|",
    ]
    proc = {row["command"]: row for row in processes}
    floor = proc[FLOOR]["median"]
    for row in processes:
        lines.append(f"| `{row['command']}` | {row['median']:.0f} | {row['p90']:.0f} "
                     f"| {row['median'] - floor:+.0f} |")

    help_ms = proc["planvalidator --help"]["median"]
    v120, b120 = by[(120, "valid")]["median"], by[(120, "bad")]["median"]
    v400, b400 = by[(400, "valid")]["median"], by[(400, "bad")]["median"]

    validate_ms = next(r["median"] for r in processes
                       if r["command"].startswith("planvalidator validate"))
    frictionless_ms = next(r["median"] for r in processes
                           if "--once frictionless" in r["command"])
    process_ratio = frictionless_ms / validate_ms

    def ratio(m):
        return m["frictionless"] / m["planvalidator"]
    lines += [
        "",
        "### Targets",
        "",
        f"- Read + validate of a 120-measure workbook in-process ≤ {TARGETS['pv_120_ms']:g} ms "
        f"median: {_verdict(max(v120['planvalidator'], b120['planvalidator']) <= TARGETS['pv_120_ms'])}"
        f" — valid {v120['planvalidator']:.1f} ms, bad {b120['planvalidator']:.1f} ms.",
        f"- 120 measures ≥ {TARGETS['ratio_120']:g}× faster than frictionless on the same file: "
        f"{_verdict(min(ratio(v120), ratio(b120)) >= TARGETS['ratio_120'])}"
        f" — valid {ratio(v120):.1f}×, bad {ratio(b120):.1f}×.",
        f"- 400 measures ≥ {TARGETS['ratio_400']:g}× faster than frictionless: "
        f"{_verdict(min(ratio(v400), ratio(b400)) >= TARGETS['ratio_400'])}"
        f" — valid {ratio(v400):.1f}×, bad {ratio(b400):.1f}×.",
        f"- `planvalidator --help` whole-process ≤ {TARGETS['help_ms']:g} ms: "
        f"{_verdict(help_ms <= TARGETS['help_ms'])} — {help_ms:.0f} ms "
        f"(bare interpreter start here: "
        f"{proc['python -c pass (interpreter start, the floor)']['median']:.0f} ms).",
        f"- `planvalidator validate` whole process ≥ {TARGETS['process_ratio']:g}× faster than "
        f"frictionless (`run.py --once frictionless`) on the same file: "
        f"{_verdict(process_ratio >= TARGETS['process_ratio'])} — {process_ratio:.2f}× "
        f"({validate_ms:.0f} vs {frictionless_ms:.0f} ms; the pandas + pandera import floor "
        f"{floor:.0f} ms).",
        "",
    ]
    write_section(path, "validate", "\n".join(lines))
    if args.json:
        path.with_suffix(".json").write_text(json.dumps(
            {"date": f"{started:%Y-%m-%dT%H:%M}Z", "repeat": args.repeat,
             "in_process": results, "whole_process": processes}, indent=1) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30,
                        help="Timed calls per contender and file (default 30).")
    parser.add_argument("--process-repeat", type=int, default=20,
                        help="Runs of each whole-process command (default 20).")
    parser.add_argument("--corpus", type=Path, default=BENCH / "corpus")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--json", action="store_true", help="Also write the raw figures as JSON.")
    parser.add_argument("--once", nargs=2, metavar=("CONTENDER", "FILE"),
                        help="Run one contender once on one file (for whole-process timing).")
    args = parser.parse_args(argv)

    if args.once:
        name, file = args.once
        run, found = SETUPS[name]()
        print(found(run(Path(file))))
        return 0
    manifest = args.corpus / "manifest.json"
    if not manifest.exists():
        raise SystemExit(f"No corpus in {args.corpus}: run python bench/corpus.py first.")
    meta = json.loads(manifest.read_text())
    args.seed = meta["seed"]  # recorded in the reproduce command
    files = meta["files"]
    started = dt.datetime.now(dt.timezone.utc)
    load_start = os.getloadavg()[0]
    compile_source()
    args.source = [source_fingerprint()]
    results = in_process(files, args.corpus, args.repeat)
    file120 = next(f["file"] for f in files if f["measures"] == 120 and f["kind"] == "valid")
    processes = whole_process(args.corpus, file120, args.process_repeat)
    args.source.append(source_fingerprint())
    write_results(args.out, args, files, results, processes, started,
                  (load_start, os.getloadavg()[0]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
