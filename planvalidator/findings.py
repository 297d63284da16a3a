"""Findings: what validation returns, worded by the catalogue of codes (catalogue.py).

The catalogue's names are imported here too, so `from planvalidator.findings import CATALOGUE,
ERROR, ...` serves every caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .a1 import column_number as _column_number
from .catalogue import (CATALOGUE, COLUMN_CAP, ERROR, INFO, MAX_FINDINGS,  # noqa: F401
                        SEVERITY_ORDER, WARNING)
from .safetext import cell_text, json_text


@dataclass(frozen=True, order=False)
class Finding:
    code: str
    severity: str
    sheet: str = ""
    cell: str = ""
    row: int = 0
    column: str = ""
    measure_id: str = ""
    value: Any = None
    message: str = ""
    hint: str = ""

    @property
    def location(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet

    def sort_key(self):
        return (self.sheet, self.row, _column_number(self.cell), self.code)

    def as_dict(self) -> dict:
        d = dict(vars(self))   # the fields are plain values: no deep copy (asdict's) needed
        d["value"] = _jsonable(self.value)
        return d


def finding(code: str, facts: dict, **where) -> Finding:
    """The finding of `code` at `where` (sheet, cell, row, column, measure_id, value): its
    severity from the catalogue, its message and hint worded by the catalogue from `facts`."""
    entry = CATALOGUE[code]
    if "value" in where:   # it is written to cells (Validation, Findings sheets) as it is
        where["value"] = cell_text(where["value"])
    return Finding(code=code, severity=entry.severity, message=entry.message(**facts),
                   hint=entry.hint(**facts), **where)


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass
class Report:
    """The findings for one workbook, sorted, plus what was validated."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    agency: str = ""
    fiscal_year: int | None = None
    stage: str = ""
    template_version: str = ""

    def __post_init__(self):
        self.findings = sorted(self.findings, key=Finding.sort_key)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> int:
        return self.count(ERROR)

    @property
    def warnings(self) -> int:
        return self.count(WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    @property
    def unreadable(self) -> bool:
        return any(f.code == "unreadable-workbook" for f in self.findings)

    def as_dict(self) -> dict:
        return {
            "source": self.source, "agency": self.agency, "fiscal_year": self.fiscal_year,
            "stage": self.stage, "template_version": self.template_version,
            "valid": self.valid,
            "stats": {"errors": self.errors, "warnings": self.warnings, "infos": self.count(INFO)},
            "findings": [f.as_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return json_text(self.as_dict())
