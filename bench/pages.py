"""How many pages the consolidated citywide plan prints on; writes bench/RESULTS-print.md.

    python bench/pages.py [--before de84936] [--seed 2028]

Builds, in a scratch folder, (a) the examples' FY2028 citywide plan
(`planvalidator merge examples/*fy2028*.xlsx`) and (b) a 60-agency one from the seeded corpus of
bench/merge_corpus.py (60 FY2028 plans, ~7,000 measures), prints each to PDF with LibreOffice
headless (a fresh profile) and counts the PDF's pages with pdfinfo.

Each workbook is written twice: by this source tree, and by the commit --before (its files
taken with `git archive` into the scratch folder and put first on PYTHONPATH), so the table
shows before and after. The figures in RESULTS-print.md are written by this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def run(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          **kw)


def source_tree(commit: str, into: Path) -> Path:
    """The library as it was at `commit` (its planvalidator/ and schemas/ are enough)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit,
                              "planvalidator", "schemas", "templates"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def merge(pythonpath: Path, inputs: list[Path], out: Path, schema: Path | None) -> None:
    extra = ["--schema", schema] if schema else []
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    # run from the tree: `python -m` puts the working folder before PYTHONPATH
    done = subprocess.run([sys.executable, "-m", "planvalidator", "merge", *map(str, inputs),
                           *map(str, extra), "-o", str(out)], env=env, cwd=pythonpath,
                          capture_output=True, text=True)
    if done.returncode not in (0, 1) or not out.exists():   # 1: plans with errors, still written
        raise SystemExit(f"merge failed ({done.returncode}): {done.stdout}{done.stderr}")


def pdf_pages(xlsx: Path, scratch: Path) -> int:
    profile = scratch / "lo-profile"
    run("soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
        "--outdir", xlsx.parent, xlsx, timeout=900)
    info = run("pdfinfo", xlsx.with_suffix(".pdf")).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="de84936", help="the commit to compare with")
    parser.add_argument("--seed", type=int, default=2028, help="of the 60-agency corpus")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS-print.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pv-pages-") as tmp:
        scratch = Path(tmp)
        run(sys.executable, BENCH / "merge_corpus.py", "--out", scratch / "corpus", "--seed",
            args.seed, "--copies", 0, timeout=1800)
        corpus = scratch / "corpus"
        cases = {
            "examples' FY2028 citywide plan": (sorted((ROOT / "examples").glob("*fy2028*.xlsx")),
                                               None),
            "60-agency citywide plan": (sorted((corpus / "city60").glob("*.xlsx")),
                                        corpus / "schema" / "fy2028.yaml"),
        }
        trees = {f"before ({args.before})": source_tree(args.before, scratch / "before"),
                 "after (this tree)": ROOT}
        counts: dict[tuple[str, str], int] = {}
        for case, (inputs, schema) in cases.items():
            for label, tree in trees.items():
                folder = scratch / f"{len(counts)}"
                folder.mkdir()
                out = folder / "citywide.xlsx"
                merge(tree, inputs, out, schema)
                counts[case, label] = pdf_pages(out, scratch)
                print(f"{case}, {label}: {counts[case, label]} pages", flush=True)
        agencies = sum(1 for _ in (corpus / "city60").glob("*.xlsx"))

    commit = run("git", "-C", ROOT, "rev-parse", "--short", "HEAD").stdout.strip()
    dirty = "-dirty" if run("git", "-C", ROOT, "status", "--porcelain", "--", "planvalidator").stdout else ""
    soffice = run("soffice", "--version").stdout.strip()
    labels = list(trees)
    lines = [
        "# Benchmark results: printed pages of the consolidated citywide plan", "",
        f"Written by `bench/pages.py` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"— do not edit by hand; rerun to update.", "",
        "Reproduce (from the repository root, with the project's virtualenv active; needs "
        "LibreOffice and poppler-utils):", "",
        "```sh", f"python bench/pages.py --before {args.before} --seed {args.seed}", "```", "",
        f"Each workbook printed to PDF by {soffice} headless (`soffice --convert-to pdf`), pages "
        f"counted with pdfinfo. The 60-agency plan: bench/merge_corpus.py's city60 "
        f"({agencies} agencies, seed {args.seed}). Source at git {commit}{dirty}.", "",
        f"| workbook | {' | '.join(labels)} |", "|---|" + "---:|" * len(labels),
        *[f"| {case} | {' | '.join(f'{counts[case, label]:,}' for label in labels)} |"
          for case in cases], "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
