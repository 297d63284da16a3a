"""Diff: the measure-level differences between two plans or two consolidated plans.

Either side may be an agency's plan workbook or a consolidated citywide plan; both are read
into each agency's Plan (read.plan.read_workbook, citywide.consolidated.read_consolidated), and
measures are matched by agency and measure ID. Values are compared as the reader normalized
them, so 85% typed as text equals 0.85. Columns are matched by schema key: between two fiscal
years, "FY2027 Target" faces "FY2028 Target" (the text output says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .consolidated.read import read_consolidated, rows_by_key
from ..read.plan import Plan, read_workbook
from ..read.xlsx import OUTPUT, CellError, read_xlsx

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Difference:
    agency: str
    measure_id: str
    change: str            # added / removed / changed
    field: str = ""        # the column label (the new side's), for a changed value
    key: str = ""          # the schema key of that column
    old: object = None
    new: object = None

    def as_dict(self) -> dict:
        return {"agency": self.agency, "measure_id": self.measure_id, "change": self.change,
                "field": self.field, "key": self.key, "old": _jsonable(self.old),
                "new": _jsonable(self.new)}


@dataclass
class Diff:
    old: str
    new: str
    old_year: int
    new_year: int
    differences: list[Difference]

    def count(self, change: str) -> int:
        return sum(1 for d in self.differences if d.change == change)

    @property
    def changed_measures(self) -> int:
        return len({(d.agency, d.measure_id) for d in self.differences if d.change == CHANGED})

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "old_fiscal_year": self.old_year,
                "new_fiscal_year": self.new_year,
                "summary": {"changed_values": self.count(CHANGED),
                            "changed_measures": self.changed_measures,
                            "added": self.count(ADDED), "removed": self.count(REMOVED)},
                "differences": [d.as_dict() for d in self.differences]}


def read_plans(path: str | Path) -> tuple[dict[str, Plan], bool]:
    """(agency code → Plan, whether the file is a consolidated plan), from a plan workbook or a
    consolidated plan. Raises UnreadableWorkbook or ConsolidatedError."""
    path = Path(path)
    names, _ = read_xlsx(path, wanted=(), limits=OUTPUT)   # names only; a plan is read below
    folded = {n.strip().casefold() for n in names}
    if "summary" in folded and "agency" not in folded:
        return {code: sub.plan for code, sub in read_consolidated(path).agencies.items()}, True
    plan = read_workbook(path)
    return {plan.agency_code: plan}, False


def diff_files(old: str | Path, new: str | Path) -> Diff:
    """A plan against a consolidated plan compares that agency's measures only."""
    (old_plans, old_city), (new_plans, new_city) = read_plans(old), read_plans(new)
    if old_city and not new_city:
        old_plans = {a: p for a, p in old_plans.items() if a in new_plans}
    elif new_city and not old_city:
        new_plans = {a: p for a, p in new_plans.items() if a in old_plans}
    return Diff(old=Path(old).name, new=Path(new).name, old_year=_year(old_plans),
                new_year=_year(new_plans), differences=diff_plans(old_plans, new_plans))


def diff_plans(old: dict[str, Plan], new: dict[str, Plan]) -> list[Difference]:
    """Every measure added, removed or changed (value by value), by agency and measure ID."""
    out: list[Difference] = []
    for agency in sorted(set(old) | set(new)):
        before = _measures(old.get(agency))
        after = _measures(new.get(agency))
        columns = new[agency].schema.measures.columns if agency in new else ()
        for mid in sorted(set(before) | set(after)):
            if mid not in before:
                out.append(Difference(agency, mid, ADDED, new=after[mid].get("measure_name")))
            elif mid not in after:
                out.append(Difference(agency, mid, REMOVED, old=before[mid].get("measure_name")))
            else:
                for c in columns:
                    if c.key in before[mid] and not _same(before[mid][c.key], after[mid][c.key]):
                        out.append(Difference(agency, mid, CHANGED, c.label, c.key,
                                              _plain(before[mid][c.key]),
                                              _plain(after[mid][c.key])))
    return out


def _measures(plan: Plan | None) -> dict[str, dict]:
    if plan is None:
        return {}
    out = {}
    for row in rows_by_key(plan.measures):
        mid = row.get("measure_id")
        if isinstance(mid, str) and mid not in out:
            out[mid] = row
    return out


def _year(plans: dict[str, Plan]) -> int:
    return next(iter(plans.values())).schema.fiscal_year if plans else 0


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


def _plain(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, CellError):
        return v.text or f"={v.formula}"
    return v


def _jsonable(v):
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)
