"""The submission store: an append-only folder of submitted plans.

Each submission is one JSON file holding the plan's sheet values ("sheet name → rows", exactly
what the reading core takes) and metadata, named by fiscal year, agency, stage (spaces as
underscores), the UTC time of receipt and the SHA-256 of its sheet values:

    FY2028-BCFD-Mid-Year_Update-20270415T143012.123456Z-<64 hex digits>.json

so that `merge --store` and `sync --store` pick their fiscal year and stage by name alone (files
named before the stage was part of the name, FY2028-BCFD-<time>-<hash>.json, are still read; their
stage comes from their metadata).

A file is written to a temporary name in the same folder and linked into place, so a reader
never sees half a file and an existing submission is never overwritten. Nothing in the store is
ever changed or deleted by planvalidator; `merge` takes the latest submission per agency and
lists the older ones as superseded.

    names, sheets, meta = read_submission(path)
    plan = read_plan(names, sheets, source=path.name)

Cell values keep their types through the file: text, numbers, booleans and empty cells are
plain JSON; dates, times, durations and error cells are tagged objects ({"$date": "2027-04-12"},
{"$error": "#N/A", "formula": ""}).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError
from ..output.atomic import write_atomic
from ..read.xlsx import CellError
from ..schema.loader import available_years, load_schema

__all__ = ["StoreError", "StoredSubmission", "Receipt", "store_submission", "read_submission",
           "list_submissions", "select", "chosen", "find_submission", "verify", "local_time", "sheets_sha256", "DEFAULT_STORE",
           "hidden_of"]

DEFAULT_STORE = Path("submissions")
FORMAT = "planvalidator-submission"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 64 * 2**20
_NAME = re.compile(r"FY(\d{4})-([A-Z0-9]{1,16})-(?:([A-Za-z][A-Za-z0-9_-]{0,39})-)?"
                   r"(\d{8}T\d{6}\.\d{6}Z)-([0-9a-f]{64})\.json")
_STAGE = re.compile(r"[A-Za-z][A-Za-z0-9 -]{0,39}")   # stages that can be spelled in a name
_STAMP = "%Y%m%dT%H%M%S.%fZ"


@dataclass(frozen=True)
class StoredSubmission:
    """One file in the store, as its name describes it (nothing is read)."""

    path: Path
    fiscal_year: int
    agency: str
    submitted_at: dt.datetime   # UTC, timezone-aware
    sha256: str
    stage: str = ""             # "Mid-Year Update"; "" when the submission names none


@dataclass(frozen=True)
class Receipt:
    """What the submitter is told: who, when, and the fingerprint of what was received."""

    agency: str
    fiscal_year: int
    submitted_at: dt.datetime
    sha256: str
    path: Path
    stage: str = ""

    def as_dict(self) -> dict:
        return {"agency": self.agency, "fiscal_year": self.fiscal_year, "stage": self.stage,
                "submitted_at": _iso(self.submitted_at), "sha256": self.sha256,
                "file": self.path.name}


# ---- values ↔ JSON ---------------------------------------------------------------------------

def _encode(value):
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise StoreError("A cell holds a number that is not finite.")
        return value
    if isinstance(value, CellError):
        return {"$error": value.text, "formula": value.formula}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    raise StoreError(f"A cell holds a value that can't be stored ({type(value).__name__}).")


def _decode(value):
    if not isinstance(value, dict):
        return value
    if "$error" in value:
        return CellError(value["$error"], value.get("formula", ""))
    if "$datetime" in value:
        return dt.datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    if "$time" in value:
        return dt.time.fromisoformat(value["$time"])
    if "$timedelta" in value:
        return dt.timedelta(seconds=value["$timedelta"])
    raise StoreError("The submission holds a cell value of an unknown kind.")


def _encode_sheets(sheets: dict[str, list[list]]) -> dict:
    return {name: [[_encode(v) for v in row] for row in rows] for name, rows in sheets.items()}


def _canonical(sheet_names: list[str], encoded_sheets: dict) -> bytes:
    return json.dumps({"sheet_names": sheet_names, "sheets": encoded_sheets}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sheets_sha256(sheet_names: list[str], sheets: dict[str, list[list]]) -> str:
    """The fingerprint of a submission: SHA-256 of its sheet names and values, canonically."""
    return hashlib.sha256(_canonical(list(sheet_names), _encode_sheets(sheets))).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


# ---- writing -------------------------------------------------------------------------------------

def store_submission(store_dir, sheet_names: list[str], sheets: dict[str, list[list]],
                     metadata: dict, *, now: dt.datetime | None = None) -> Receipt:
    """Write one submission; never overwrites. `metadata` must hold `agency` and `fiscal_year`;
    `submitted_at` and `sha256` are added here."""
    agency = str(metadata.get("agency", ""))
    year = metadata.get("fiscal_year")
    if not re.fullmatch(r"[A-Z0-9]{1,16}", agency) or not isinstance(year, int) \
            or not 1000 <= year <= 9999:
        raise StoreError("A submission needs an agency code and a fiscal year.")
    store_dir = Path(store_dir)
    encoded = _encode_sheets(sheets)
    digest = hashlib.sha256(_canonical(list(sheet_names), encoded)).hexdigest()
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"The submission store {store_dir} can't be created "
                         f"({e.strerror or e}).") from None
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    stage = str(metadata.get("stage") or "")
    named = f"{stage.replace(' ', '_')}-" if _STAGE.fullmatch(stage) else ""
    for _ in range(100):
        name = f"FY{year}-{agency}-{named}{moment.strftime(_STAMP)}-{digest}.json"
        meta = {**metadata, "format": FORMAT, "format_version": FORMAT_VERSION,
                "submitted_at": _iso(moment), "sha256": digest}
        body = json.dumps({"metadata": meta, "sheet_names": list(sheet_names), "sheets": encoded},
                          ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")
        if _link_new(store_dir, name, body):
            return Receipt(agency=agency, fiscal_year=year, submitted_at=moment, sha256=digest,
                           path=store_dir / name, stage=stage)
        moment += dt.timedelta(microseconds=1)   # the same plan in the same microsecond
    raise StoreError("The submission could not be given a unique name; try again.")


def _link_new(store_dir: Path, name: str, body: bytes) -> bool:
    """Write `body` to store_dir/name atomically; False if that name exists already."""
    try:
        return write_atomic(store_dir / name, body, exclusive=True, mode=0o640)
    except OSError as e:
        raise StoreError(f"The submission could not be saved in {store_dir} "
                         f"({e.strerror or e}).") from None


# ---- reading -------------------------------------------------------------------------------------

def list_submissions(store_dir) -> list[StoredSubmission]:
    """Every submission in the store, sorted by fiscal year, agency and time (oldest first).
    Files that are not submissions (temporary files, notes) are ignored."""
    store_dir = Path(store_dir)
    if not store_dir.is_dir():
        raise StoreError(f"{store_dir} is not a submission store (no such folder).")
    found = []
    for path in store_dir.iterdir():
        m = _NAME.fullmatch(path.name)
        if m is None or not path.is_file():
            continue
        try:
            moment = dt.datetime.strptime(m.group(4), _STAMP).replace(tzinfo=dt.timezone.utc)
        except ValueError:   # an impossible time (month 13): not a name the store gave
            continue
        stage = (m.group(3) or "").replace("_", " ") or _stage_inside(path)
        found.append(StoredSubmission(path=path, fiscal_year=int(m.group(1)), agency=m.group(2),
                                      submitted_at=moment, sha256=m.group(5), stage=stage))
    return sorted(found, key=lambda s: (s.fiscal_year, s.agency, s.submitted_at, s.sha256))


def _stage_inside(path: Path) -> str:
    """The stage of a submission whose name does not say it (named before names did)."""
    try:
        return str(read_submission(path)[2].get("stage") or "")
    except StoreError:
        return ""   # damaged: merge reads it and names it unreadable


def select(submissions: list[StoredSubmission], fiscal_year: int | None,
           stages: tuple[str, ...] | None) -> tuple[list[StoredSubmission], list[StoredSubmission]]:
    """(the submissions of `fiscal_year` in one of `stages`, the others); None: any."""
    taken, others = [], []
    for sub in submissions:
        ok = (fiscal_year is None or sub.fiscal_year == fiscal_year) and \
            (stages is None or sub.stage in stages)
        (taken if ok else others).append(sub)
    return taken, others


def chosen(store_dir, fiscal_year: int | None = None, stages: tuple[str, ...] | None = None,
           command: str = "merge", choose: bool = True
           ) -> tuple[list[StoredSubmission], list[tuple[Path, str]]]:
    """What `merge --store` / `sync --store` read: the submissions of one fiscal year (default:
    the latest in the store) and of `stages` (default: the Plan if the year has one, else its
    latest stage present), and the others, each named with why it is not read. choose=False:
    no defaults (files named beside the store take part in choosing)."""
    subs = list_submissions(store_dir)
    if not subs:
        return [], []
    year = fiscal_year
    if choose:
        known = set(available_years())   # a year without a schema (a typo) is never the default
        found = [(s.fiscal_year, s.stage) for s in subs if s.fiscal_year in known]
        year, stage = default_year_stage(found, _stages, stages, fiscal_year)
        year = year or 0   # no year with a schema: take nothing
        if stages is None and stage is not None:
            stages = (stage,)
    taken, others = select(subs, year, stages)
    wanted = " ".join(filter(None, [year and f"FY{year}", stages and " or ".join(stages)]))
    return taken, [(s.path, f"the FY{s.fiscal_year} {s.stage or 'submission'} in the store; "
                            f"this {command} takes {wanted}") for s in others]


def default_year_stage(found: list[tuple[int, str]], stages_of: Callable[[int], Sequence[str]],
                       stages: tuple[str, ...] | None = None, year: int | None = None
                       ) -> tuple[int | None, str | None]:
    """The fiscal year and stage a merge takes when not told, from the (year, stage) of each
    submission `found` (of years that have a schema): `year`, or else the latest year found at
    one of `stages` (at any stage when none is found at them); then the year's first stage (the
    Plan) if found, else its latest stage found. None for what is not found."""
    if year is None:
        years = [y for y, s in found if stages is None or s in stages] or [y for y, _ in found]
        year = max(years, default=None)
    present = [s for y, s in found if y == year]
    if not present:
        return year, None
    order = list(stages_of(year))
    present = [s for s in present if s in order]
    if not present:
        return year, None
    return year, order[0] if order[0] in present else max(present, key=order.index)


def _stages(year: int) -> list[str]:
    return list(load_schema(year).stages) if year in available_years() else []


def find_submission(store_dir, fingerprint: str) -> list[StoredSubmission]:
    """The submissions whose file name or SHA-256 fingerprint starts with `fingerprint`
    (a whole fingerprint, or the first characters of one: at least 8)."""
    wanted = fingerprint.strip().lower()
    return [s for s in list_submissions(store_dir)
            if s.path.name == fingerprint.strip()
            or (len(wanted) >= 8 and s.sha256.startswith(wanted))]


def read_submission(path) -> tuple[list[str], dict[str, list[list]], dict]:
    """(sheet names, {sheet name: rows}, metadata) of one stored submission. Raises StoreError
    when the file is not an intact submission (its fingerprint is checked)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise StoreError(f"{path.name} could not be read ({e.strerror or e}).") from None
    if len(raw) > MAX_FILE_BYTES:
        raise StoreError(f"{path.name} is far larger than a submission.")
    try:
        doc = json.loads(raw)
        meta, names, encoded = doc["metadata"], doc["sheet_names"], doc["sheets"]
        if meta.get("format") != FORMAT or not isinstance(names, list) or not isinstance(encoded, dict):
            raise ValueError
        digest = hashlib.sha256(_canonical(names, encoded)).hexdigest()
        sheets = {name: [[_decode(v) for v in row] for row in rows] for name, rows in encoded.items()}
    except StoreError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StoreError(f"{path.name} is not a planvalidator submission, or it is damaged.") from None
    if digest != meta.get("sha256"):
        raise StoreError(f"{path.name} has been changed since it was submitted "
                         "(its SHA-256 fingerprint does not match).")
    return names, sheets, meta


def hidden_of(meta: dict) -> dict[str, str]:
    """Sheet name → "hidden" or "veryHidden", as the add-in recorded the workbook's sheets
    Excel does not show (read.plan reports them, as for a workbook file)."""
    hidden = meta.get("hidden")
    if not isinstance(hidden, dict):
        return {}
    return {n: s for n, s in hidden.items() if isinstance(n, str) and s in ("hidden", "veryHidden")}


def verify(store_dir, fingerprint: str | None = None) -> list[tuple[StoredSubmission, str]]:
    """Every submission (or those `fingerprint` names, see find_submission), each with "" when
    it is intact, else what is wrong with it."""
    subs = find_submission(store_dir, fingerprint) if fingerprint else list_submissions(store_dir)
    checked = []
    for sub in subs:
        try:
            _, _, meta = read_submission(sub.path)
        except StoreError as e:
            checked.append((sub, str(e)))
            continue
        named = (meta.get("sha256"), meta.get("agency"), meta.get("fiscal_year"),
                 str(meta.get("stage") or ""))   # a name without a stage took it from inside
        found = (sub.sha256, sub.agency, sub.fiscal_year, sub.stage)
        checked.append((sub, "" if named == found else
                        f"{sub.path.name}: its name does not match its contents (it was renamed)."))
    return checked


def local_time(moment: dt.datetime, timezone: str = "UTC") -> str:
    """A time of receipt as people read it: the city's local time, to the second."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        local = moment.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise StoreError(f"'{timezone}' is not a time zone; use a name such as "
                         "America/New_York or UTC.") from None
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or timezone)
