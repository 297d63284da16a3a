"""bench/RESULTS.md holds one section per benchmark script; each script rewrites only its own.

A section sits between `<!-- begin NAME -->` and `<!-- end NAME -->`; sections keep their order
in the file and a new one is appended. A RESULTS.md from before sections existed (written whole
by bench/run.py) is taken as the `validate` section.
"""

from __future__ import annotations

import re
from pathlib import Path

TITLE = ("# Benchmark results\n\n"
         "Each section below is written by the script it names — do not edit by hand; rerun "
         "the script to update its section.\n")
_SECTION = re.compile(r"<!-- begin (?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- end (?P=name) -->\n",
                      re.S)


def read_sections(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    sections = {m["name"]: m["body"] for m in _SECTION.finditer(text)}
    if not sections and text.strip():  # the old single-benchmark layout
        sections["validate"] = re.sub(r"\A# Benchmark results\n+", "## Validate (old layout)\n\n",
                                      text).rstrip("\n") + "\n"
    return sections


def write_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) section `name` of the results file, keeping the others."""
    sections = read_sections(path)
    sections[name] = body.rstrip("\n") + "\n"
    parts = [TITLE]
    for key, text in sections.items():
        parts.append(f"\n<!-- begin {key} -->\n{text}<!-- end {key} -->\n")
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(path)


def source_fingerprint() -> str:
    """A short hash of the library's source and schemas: the code a benchmark measured."""
    import hashlib
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted([*(root / "planvalidator").rglob("*.py"), *(root / "schemas").glob("*.yaml")]):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def compile_source() -> None:
    """Byte-compile the library, as pip does when it installs it. These machines set
    PYTHONDONTWRITEBYTECODE=1, so an editable checkout would compile its modules from source in
    every process timed (~45 ms of a merge), which no installed copy pays, nor the peers and
    pandas, installed from wheels with their bytecode."""
    import compileall
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "planvalidator", quiet=1)


COMPILED = ("The library is byte-compiled first, as an installed copy is "
            "(bench/results.py compile_source).")


def source_note(start: str, end: str) -> str:
    """The line RESULTS.md carries about the measured source."""
    if start == end:
        return (f"Source fingerprint {start} (planvalidator/*.py and schemas/, unchanged during "
                f"the run). {COMPILED}")
    return (f"**The source changed during this run** (fingerprint {start} at the start, {end} at "
            "the end): the figures mix versions — rerun on a quiet tree.")

def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def p90(xs):
    s = sorted(xs)
    return s[min(len(s) - 1, int(0.9 * len(s)))]
