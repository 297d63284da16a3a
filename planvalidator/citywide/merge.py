"""Merge: every agency's submission → one consolidated citywide plan.

A map over chunks of files — hash, read, normalize and validate with the same library call as
`validate` (one pandera pass per chunk: a typical city is one chunk) — in a process pool when
jobs > 1, then one write (consolidated.py). Memory stays bounded with thousands of files: a
submission's plan is dropped as soon as a later one of the same agency supersedes it; only its
report and provenance are kept.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MergeError
from ..findings import Finding, Report, finding
from . import store
from ..read.plan import Plan, read_plan, read_workbook
from ..schema.loader import Schema
from ..rules.validate import unreadable_report, validate_plans
from ..read.xlsx import UnreadableWorkbook

BATCH = 64  # plans validated together at most; bounds memory with thousands of submissions


@dataclass
class Submission:
    path: Path
    sha256: str
    size: int
    mtime: float
    plan: Plan | None = None
    report: Report | None = None
    superseded_by: str = ""
    # what the plan said, kept when the plan itself is dropped
    agency: str = ""
    agency_name: str = ""
    fiscal_year: int | None = None
    stage: str = ""
    template_version: str = ""
    submission_date: dt.date | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def readable(self) -> bool:
        return not (self.report and self.report.unreadable)

    @property
    def result(self) -> str:
        if not self.readable:
            return "Unreadable"
        return "Superseded" if self.superseded_by else "Accepted"

    def sort_key(self):
        """Later submissions win: Submission Date, then file time, then name."""
        return (self.submission_date or dt.date.min, self.mtime, self.name)


@dataclass
class Consolidation:
    submissions: list[Submission] = field(default_factory=list)
    # Set by sync (sync.py): the Sources rows to write as they are (the consolidated plan's own,
    # carried forward, plus the update files), and the Changes sheet's rows; None: a plain merge.
    sources: list[list] | None = None
    changes: list[list] | None = None

    @property
    def accepted(self) -> list[Submission]:
        """One submission per agency, by agency code."""
        return sorted((s for s in self.submissions if s.result == "Accepted"),
                      key=lambda s: (s.agency, s.name))

    @property
    def superseded(self) -> list[Submission]:
        return [s for s in self.submissions if s.result == "Superseded"]

    @property
    def unreadable(self) -> list[Submission]:
        return [s for s in self.submissions if not s.readable]


def collect_sources(specs: Iterable[str | Path]) -> list[Path]:
    """Files, folders (their .xlsx files) and glob patterns → sorted unique paths."""
    paths: set[Path] = set()
    for spec in specs:
        spec = str(spec)
        p = Path(spec)
        if p.is_dir():
            found = [f for f in p.glob("*.xlsx")]
        elif p.is_file():
            found = [p]
        else:
            found = [Path(f) for f in glob.glob(spec, recursive=True) if Path(f).is_file()]
        found = [f for f in found if not f.name.startswith("~$")]  # Excel's lock files
        if not found:
            raise MergeError(f"No plan workbooks found at '{spec}'.")
        paths.update(f.resolve() for f in found)
    return sorted(paths)


def read_submission(path: Path, schema: Schema | None = None) -> Submission:
    """Hash and read one file — a workbook, or a JSON file of the add-in's submission store —
    (runs in a worker process when merging with jobs > 1)."""
    data = path.read_bytes()
    sub = Submission(path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                     mtime=path.stat().st_mtime)
    try:
        if path.suffix == ".json":
            names, sheets, meta = store.read_submission(path)
            sub.mtime = dt.datetime.fromisoformat(meta["submitted_at"].replace("Z", "+00:00")).timestamp()
            plan = read_plan(names, sheets, source=path.name, schema=schema)
        else:
            plan = read_workbook(path, schema=schema)
    except (UnreadableWorkbook, store.StoreError) as e:
        sub.report = unreadable_report(path, e)
        return sub
    sub.plan = plan
    sub.agency = plan.agency_code
    name = plan.field("agency_name")
    sub.agency_name = name if isinstance(name, str) else ""
    sub.fiscal_year = plan.schema.fiscal_year
    sub.stage = plan.stage
    sub.template_version = plan.identity.get("template_version", "")
    date = plan.field("submission_date")
    sub.submission_date = date if isinstance(date, dt.date) else None
    return sub


def _read_and_validate(chunk: list[tuple[Path, Schema | None]]) -> list[Submission]:
    """Read a chunk of files and validate their plans together (one pandera pass): the unit
    of work of a worker process, or of this one when jobs = 1."""
    subs = [read_submission(path, schema) for path, schema in chunk]
    readable = [s for s in subs if s.plan is not None]
    for sub, report in zip(readable, validate_plans([s.plan for s in readable])):
        sub.report = report
    latest: dict[str, Submission] = {}
    for sub in readable:
        if _key(sub) not in latest or sub.sort_key() > latest[_key(sub)].sort_key():
            latest[_key(sub)] = sub
    for sub in readable:   # only a chunk's latest can win: the others travel without data
        if latest[_key(sub)] is not sub:
            sub.plan = None
    return subs


def merge(paths: list[Path], schema: Schema | None = None, jobs: int = 1,
          progress: Callable | None = None) -> Consolidation:
    """Read and validate every submission (with `schema`, else each one's fiscal year's);
    pick the latest per agency."""
    cons = Consolidation()
    winners: dict[str, Submission] = {}
    work = [(p, schema) for p in paths]
    # One chunk for a typical city (one validation pass); smaller chunks keep both workers
    # busy and memory bounded when there are many files.
    size = min(BATCH, max(1, -(-len(work) // (4 * jobs)))) if jobs > 1 else BATCH
    chunks = [work[i:i + size] for i in range(0, len(work), size)]
    with ProcessPoolExecutor(jobs) if jobs > 1 else _Serial() as pool:
        results = (sub for chunk in pool.map(_read_and_validate, chunks) for sub in chunk)
        for sub in progress(results, len(work)) if progress else results:
            cons.submissions.append(sub)
            if sub.plan is None:
                continue
            current = winners.get(_key(sub))
            if current is None or sub.sort_key() > current.sort_key():
                if current is not None:
                    current.plan = None  # superseded: keep its report, drop its data
                winners[_key(sub)] = sub
            else:
                sub.plan = None
    for sub in cons.submissions:
        if sub.readable and winners.get(_key(sub)) is not sub:
            sub.superseded_by = winners[_key(sub)].name
    _add_collisions(cons.accepted)
    return cons


def _key(sub: Submission) -> str:
    """Submissions of one agency compete; a plan without an agency code stands alone."""
    return sub.agency or f"file:{sub.path}"


class _Serial:
    """The pool's interface, in this process (jobs = 1)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items):
        return map(fn, items)


def _add_collisions(accepted: list[Submission]) -> None:
    """measure-id-collision: a measure ID used by more than one agency."""
    owners: dict[str, set[str]] = {}
    for sub in accepted:
        for mid in sub.plan.measures.values.get("measure_id", []):
            if isinstance(mid, str):
                owners.setdefault(mid, set()).add(sub.agency)
    shared = {mid: agencies for mid, agencies in owners.items() if len(agencies) > 1}
    if not shared:
        return
    for sub in accepted:
        m = sub.plan.measures
        extra: list[Finding] = []
        for i, mid in enumerate(m.values.get("measure_id", [])):
            if mid in shared:
                others = ", ".join(sorted(shared[mid] - {sub.agency}))
                extra.append(finding(
                    "measure-id-collision", {"location": f"{m.sheet}!{m.address('measure_id', i)}",
                                             "measure_id": mid, "others": others},
                    sheet=m.sheet, cell=m.address("measure_id", i), row=m.rows[i],
                    column=m.table.column("measure_id").label, measure_id=mid, value=mid))
        if extra:
            r = sub.report
            sub.report = Report(source=r.source, findings=r.findings + extra, agency=r.agency,
                                fiscal_year=r.fiscal_year, stage=r.stage,
                                template_version=r.template_version)


def merge_files(specs, out: Path, store_dir: Path | None = None, **kw) -> Consolidation:
    """Collect sources (and the submissions of a store), refuse an output that names one of
    them, and merge."""
    paths = collect_sources(specs) if specs else []
    if store_dir is not None:
        try:
            paths += [s.path.resolve() for s in store.list_submissions(store_dir)]
        except store.StoreError as e:
            raise MergeError(str(e)) from None
    if not paths:
        raise MergeError("Nothing to merge: name plan workbooks, folders or a --store.")
    if out.resolve() in paths:
        raise MergeError(f"The output {out} is one of the inputs; choose another file name.")
    return merge(paths, **kw)
