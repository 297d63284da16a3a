"""Merge: every agency's submission → one consolidated citywide plan.

A map over chunks of files — hash, read, normalize and validate with the same library call as
`validate` (one pandera pass per chunk: a typical city is one chunk) — in a process pool when
jobs > 1 (workers.py: a file that fails or crashes its worker costs only itself), then one
write (consolidated/write.py). Memory stays bounded with thousands of files: a submission's
plan is dropped as soon as a later one of the same agency, fiscal year and stage supersedes
it; only its report and provenance are kept. A merge consolidates one fiscal year
and one stage; the other submissions are left out, by name (merge_files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import MergeError
from ..bounds import bounded
from ..findings import Finding, Report, finding
from . import store
from .workers import run_chunks
from ..read.plan import Plan, read_plan, read_workbook
from ..read.sources import collect
from ..schema.loader import Schema, available_years
from ..read.xlsx import UnreadableWorkbook

BATCH = 64  # plans validated together at most; bounds memory with thousands of submissions
ALONE_BYTES = 2 * 2**20   # a workbook whose parts inflate to more is read in a process of its own
WORKER_BATCH = 16  # in each worker: the parent and every worker hold their chunk's plans at once

# Which submission of an agency wins (README "Merge", `merge --help`): a submission in the store
# over files of the same agency, since its time of receipt is recorded by planvalidator itself;
# among store submissions, the one received last (never the Submission Date typed in it); among
# files, the later Submission Date on the Agency sheet, then the later modification time, then
# the later file name.


@dataclass
class Submission:
    path: Path
    sha256: str
    size: int
    mtime: float
    plan: Plan | None = None
    report: Report | None = None
    superseded_by: str = ""
    superseded_why: str = ""     # "later Submission Date 2027-05-02", ...
    left_out: str = ""           # "FY2027 Mid-Year Update": not the year and stage merged
    # what the plan said, kept when the plan itself is dropped
    agency: str = ""
    agency_name: str = ""
    fiscal_year: int | None = None
    stage: str = ""
    stages: tuple[str, ...] = ()
    template_version: str = ""
    submission_date: dt.date | None = None
    received_at: dt.datetime | None = None   # a store submission's time of receipt (UTC)

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
        if self.left_out:
            return f"Left out: {self.left_out}"
        return "Superseded" if self.superseded_by else "Accepted"

    def sort_key(self):
        """The later wins (the rule above). A total order: the winner never depends on the order
        the files were read in or on how they were split between workers."""
        if self.received_at is not None:
            return (1, self.received_at.timestamp(), 0.0, self.name)
        return (0, (self.submission_date or dt.date.min).toordinal(), self.mtime, self.name)


def superseded_why(winner: Submission, loser: Submission) -> str:
    """Why `winner` beats `loser`, in the words of the rule above."""
    if winner.received_at is not None:
        if loser.received_at is None:
            return "a store submission wins over a file"
        return f"received later ({winner.received_at:%Y-%m-%d %H:%M:%S} UTC)"
    if winner.submission_date != loser.submission_date:
        return f"later Submission Date {winner.submission_date:%Y-%m-%d}"
    if winner.mtime != loser.mtime:
        when = dt.datetime.fromtimestamp(winner.mtime, dt.timezone.utc)
        return f"same Submission Date, modified later ({when:%Y-%m-%d %H:%M:%S} UTC)"
    return "same Submission Date and modification time, later file name"


@dataclass
class Consolidation:
    submissions: list[Submission] = field(default_factory=list)
    # Set by sync (sync.py): the Sources rows to write as they are (the consolidated plan's own,
    # carried forward, plus the update files), and the Changes sheet's rows; None: a plain merge.
    sources: list[list] | None = None
    changes: list[list] | None = None
    # The one fiscal year and stage merged and why they were chosen (None: no choice made),
    # and the files found in a folder or by a glob but not read, with the reason.
    fiscal_year: int | None = None
    stage: str | None = None
    chosen_because: str = ""
    not_read: list[tuple[Path, str]] = field(default_factory=list)
    without_schema: list[Submission] = field(default_factory=list)   # left out: see _choose

    @property
    def accepted(self) -> list[Submission]:
        """One submission per agency, by agency code."""
        return sorted((s for s in self.submissions if s.result == "Accepted"),
                      key=lambda s: (s.agency, s.name))

    @property
    def superseded(self) -> list[Submission]:
        return [s for s in self.submissions if s.result == "Superseded"]

    @property
    def left_out(self) -> list[Submission]:
        return [s for s in self.submissions if s.readable and s.left_out]

    @property
    def unreadable(self) -> list[Submission]:
        return [s for s in self.submissions if not s.readable]


def read_submission(path: Path, schema: Schema | None = None) -> Submission:
    """Hash and read one file — a workbook, or a JSON file of the add-in's submission store —
    (runs in a worker process when merging with jobs > 1)."""
    sub = Submission(path=path, sha256="", size=0, mtime=0.0)
    try:
        data = path.read_bytes()   # a file gone or locked since it was listed: left out, named
        sub.sha256, sub.size = hashlib.sha256(data).hexdigest(), len(data)
        sub.mtime = path.stat().st_mtime
        if path.suffix == ".json":
            names, sheets, meta = store.read_submission(path)
            try:   # the metadata is outside the fingerprint: it may have been edited
                sub.received_at = dt.datetime.fromisoformat(
                    meta["submitted_at"].replace("Z", "+00:00"))
            except (KeyError, AttributeError, ValueError):
                raise store.StoreError(f"{path.name} does not say when it was received (its "
                                       "metadata is damaged).") from None
            plan = read_plan(names, sheets, source=path.name, schema=schema,
                             hidden=store.hidden_of(meta))
        else:
            plan = read_workbook(path, schema=schema)
    except (UnreadableWorkbook, store.StoreError, OSError) as e:
        from ..rules.validate import unreadable_report
        if isinstance(e, OSError):
            e = UnreadableWorkbook(f"{path.name} could not be opened ({e.strerror or e}).")
        sub.report = unreadable_report(path, e)
        return sub
    sub.plan = plan
    sub.agency = plan.agency_code
    name = plan.field("agency_name")
    sub.agency_name = name if isinstance(name, str) else ""
    # the year the plan states: a schema forced with --fiscal-year may be another year's
    stated = plan.field("fiscal_year")
    sub.fiscal_year = stated if isinstance(stated, int) else plan.schema.fiscal_year
    sub.stage = plan.stage
    sub.stages = tuple(plan.schema.stages)
    sub.template_version = plan.identity.get("template_version", "")
    date = plan.field("submission_date")
    sub.submission_date = date if isinstance(date, dt.date) else None
    return sub


def _failed(item: tuple[Path, Schema | None], reason: str) -> Submission:
    """A file whose reading and validation failed on its own (workers.py): named, left out."""
    path = item[0]
    try:
        with path.open("rb") as f:
            sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        stat = path.stat()
        size, mtime = stat.st_size, stat.st_mtime
    except OSError:   # gone or locked by now: still named, with the reason it failed
        sha256, size, mtime = "", 0, 0.0
    from ..rules.validate import unreadable_report   # here: see _read_and_validate
    return Submission(path=path, sha256=sha256, size=size, mtime=mtime,
                      report=unreadable_report(path, reason))


def _read_and_validate(chunk: list[tuple[Path, Schema | None]]) -> list[Submission]:
    """Read a chunk of files and validate their plans together (one pandera pass): the unit
    of work of a worker process, or of this one when jobs = 1."""
    # imported here: pandera's import costs ~1.4 s of CPU that publish and diff, which only
    # read consolidated plans (citywide.consolidated.read imports this module), never need
    from ..rules.validate import validate_plans
    subs = [read_submission(path, schema) for path, schema in chunk]
    readable = [s for s in subs if s.plan is not None]
    for sub, report in zip(readable, validate_plans([s.plan for s in readable])):
        sub.report = report
    latest: dict[tuple, Submission] = {}
    for sub in readable:
        if _group(sub) not in latest or sub.sort_key() > latest[_group(sub)].sort_key():
            latest[_group(sub)] = sub
    for sub in readable:   # only a chunk's latest can win: the others travel without data
        if latest[_group(sub)] is not sub:
            sub.plan = None
    return subs


def _large(item: tuple[Path, Schema | None]) -> bool:
    """A workbook whose parts inflate to more than ALONE_BYTES (~5 times a plan of 400 measures),
    as its zip directory declares (the reader refuses a part that inflates to another size):
    under a memory limit, reading it can crash the process in native code (calamine), so with
    jobs = 1 it is read in a process of its own (workers.py) and a crash costs only itself."""
    path = item[0]
    if path.suffix == ".json":   # a store submission: no native reader
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return sum(i.file_size for i in z.infolist()) > ALONE_BYTES
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):   # refused before calamine
        return False


def chunk_size(files: int, jobs: int) -> int:
    """One chunk for a typical city (one validation pass); with workers, chunks small enough
    to keep them all busy, and never more than WORKER_BATCH files (memory)."""
    return min(WORKER_BATCH, max(1, -(-files // (4 * jobs)))) if jobs > 1 else BATCH


def merge(paths: list[Path], schema: Schema | None = None, jobs: int = 1,
          progress: Callable | None = None, *, one_plan: bool = False,
          fiscal_year: int | None = None, stage: str | None = None) -> Consolidation:
    """Read and validate every submission (with `schema`, else each one's fiscal year's);
    pick the latest per agency (the rule above).

    one_plan: consolidate one fiscal year and one stage — `fiscal_year` and `stage`, by
    default the latest year among the inputs and its first stage (Plan) if present, else its
    latest; the submissions of other years and stages are left out and never supersede.
    Without it (sync's updates), all the submissions of an agency compete."""
    cons = Consolidation()
    best: dict[tuple, Submission] = {}     # the latest so far per agency, fiscal year and stage
    work = [(p, schema) for p in paths]
    size = chunk_size(len(work), jobs)
    chunks = [work[i:i + size] for i in range(0, len(work), size)]
    results = (sub for chunk in run_chunks(_read_and_validate, chunks, jobs, _failed, _large)
               for sub in chunk)
    for sub in progress(results, len(work)) if progress else results:
        cons.submissions.append(sub)
        if sub.plan is None:
            continue
        current = best.get(_group(sub))
        if current is None or sub.sort_key() > current.sort_key():
            if current is not None:
                current.plan = None  # superseded: keep its report, drop its data
            best[_group(sub)] = sub
        else:
            sub.plan = None
    readable = [s for s in cons.submissions if s.readable]
    if one_plan and readable:
        with_schema = set(available_years()) | ({schema.fiscal_year} if schema else set())
        _choose(cons, readable, fiscal_year, stage, with_schema)
    winners: dict[str, Submission] = {}
    for sub in best.values():
        if sub.left_out:
            sub.plan = None
        elif _key(sub) not in winners or sub.sort_key() > winners[_key(sub)].sort_key():
            winners[_key(sub)] = sub
    for sub in readable:
        winner = winners.get(_key(sub))
        if not sub.left_out and winner is not sub:
            sub.plan = None
            sub.superseded_by, sub.superseded_why = winner.name, superseded_why(winner, sub)
    _add_collisions(cons.accepted)
    return cons


def _choose(cons: Consolidation, readable: list[Submission], year: int | None,
            stage: str | None, with_schema: set[int]) -> None:
    """Set the fiscal year and stage to consolidate (and why); mark the others left out.
    A plan stating a year without a schema (a typo such as 2082) is left out, never chosen."""
    cons.without_schema = [s for s in readable if s.fiscal_year not in with_schema]
    for sub in cons.without_schema:
        sub.left_out = f"no FY{sub.fiscal_year} schema"
    usable = [s for s in readable if not s.left_out]
    if year is None and not usable:
        found = ", ".join(f"FY{y}" for y in sorted({s.fiscal_year for s in readable}))
        raise MergeError(f"None of the inputs is for a fiscal year that has a schema (they are "
                         f"{found}; schemas exist for {', '.join(map(str, sorted(with_schema)))}).")
    year_why = "--fiscal-year" if year is not None else "the latest fiscal year among the inputs"
    schema_stages = {s.fiscal_year: s.stages for s in usable}
    year, first = store.default_year_stage([(s.fiscal_year, s.stage) for s in usable],
                                           schema_stages.__getitem__, (stage,) if stage else None,
                                           year)
    of_year = [s for s in readable if s.fiscal_year == year]
    if not of_year:
        found = ", ".join(f"FY{y}" for y in sorted({s.fiscal_year for s in readable}))
        raise MergeError(f"None of the inputs is an FY{year} plan (they are {found}).")
    stages = of_year[0].stages
    if stage is not None:
        if stage not in stages:
            raise MergeError(f"--stage {stage}: the FY{year} stages are {', '.join(stages)}.")
        if not any(s.stage == stage for s in of_year):
            found = ", ".join(sorted({s.stage for s in of_year}, key=stages.index))
            raise MergeError(f"None of the FY{year} inputs is a {stage} (they are: {found}).")
        stage_why = "--stage"
    elif first == stages[0]:
        stage, stage_why = first, f"a {stages[0]} of FY{year} is among the inputs"
    else:
        stage = first
        stage_why = (f"the latest stage among the FY{year} inputs; there is no "
                     f"FY{year} {stages[0]}")
    cons.fiscal_year, cons.stage = year, stage
    cons.chosen_because = f"FY{year} ({year_why}), stage {stage} ({stage_why})"
    for sub in readable:
        if not sub.left_out and (sub.fiscal_year, sub.stage) != (year, stage):
            sub.left_out = f"FY{sub.fiscal_year} {sub.stage}".rstrip()


def _group(sub: Submission) -> tuple:
    """Submissions of one agency, fiscal year and stage compete as they are read; which year
    and stage to merge is decided once all are read."""
    return (_key(sub), sub.fiscal_year, sub.stage)


def _key(sub: Submission) -> str:
    """Submissions of one agency compete; a plan without an agency code stands alone."""
    return sub.agency or f"file:{sub.path}"


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
        label = m.table.column("measure_id").label
        rows = [i for i, mid in enumerate(m.values.get("measure_id", [])) if mid in shared]
        extra: list[Finding] = []
        for i in rows:   # bounded() lists COLUMN_CAP of them and counts the rest
            mid = m.values["measure_id"][i]
            others = ", ".join(sorted(shared[mid] - {sub.agency}))
            extra.append(finding(
                "measure-id-collision", {"location": f"{m.sheet}!{m.address('measure_id', i)}",
                                         "measure_id": mid, "others": others},
                sheet=m.sheet, cell=m.address("measure_id", i), row=m.rows[i],
                column=label, measure_id=mid, value=mid))
        if extra:
            sub.report = replace(sub.report, findings=bounded(sub.report.findings + extra))


def merge_files(specs, out: Path, store_dir: Path | None = None, **kw) -> Consolidation:
    """Collect sources (and the submissions of a store), refuse an output that names one of
    them, and merge one fiscal year and stage (see `merge`: fiscal_year=, stage=)."""
    found = collect(specs) if specs else None
    paths = sorted(found.paths) if found else []
    not_read = found.not_read if found else []
    if store_dir is not None:   # only the store's submissions of the year and stage merged
        year, stage = kw.get("fiscal_year"), kw.get("stage")
        try:
            taken, others = store.chosen(store_dir, year, (stage,) if stage else None,
                                         choose=not paths)   # else chosen among files too
        except store.StoreError as e:
            raise MergeError(str(e)) from None
        paths += [s.path.resolve() for s in taken]
        not_read = not_read + others
    if not paths:
        raise MergeError("Nothing to merge: name plan workbooks, folders or a --store.")
    if out.resolve() in paths:
        raise MergeError(f"The output {out} is one of the inputs; choose another file name.")
    cons = merge(paths, one_plan=True, **kw)
    if not any(s.readable for s in cons.submissions):   # no plan: no consolidated plan to write
        names = [s.name for s in cons.submissions]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise MergeError(f"None of the inputs could be read ({shown}), so there is nothing to "
                         "merge; `planvalidator validate` on them says why.")
    cons.not_read = not_read
    return cons
