"""The consolidated citywide plan workbook: Summary, Measures, Services, Findings, By Pillar,
Dashboard, Changes (after a sync) and Sources, written once, atomically and deterministically.

Each sheet is laid out with openpyxl (submissions.py: Summary, Findings, Sources; values.py:
Measures, Services, Changes; dashboard.py: By Pillar and Dashboard); the big ones get their
rows from output/bigsheet.py, which is ~20× faster per cell. layout.py holds what they share;
output/printing.py sets every sheet up for printing.

`write_merge_outputs` writes the workbook and its open data as one run's pair: the workbook is
written under a temporary name first, the open data (naming the workbook's SHA-256) is swapped
in whole, and only then is the workbook renamed into place. A failure anywhere before that
rename changes neither; a kill between the two renames leaves open data whose recorded hash
names a workbook that is not (yet) there, never a new workbook beside last run's open data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from openpyxl import Workbook

from ..merge import Consolidation, Submission
from ...output.atomic import StagedFile, workbook_bytes, write_atomic
from ...output.opendata import write_datapackage
from ...output.bigsheet import splice
from ...output.printing import set_up_printing
from ...schema.loader import Schema
from . import submissions, values
from .dashboard import by_pillar, dashboard

__all__ = ["write_consolidated", "write_merge_outputs"]
CREATOR = "planvalidator"
# zlib's level for the workbook's parts: level 1 compresses a city's ~8 MB of sheet XML in
# under half the time of the default (6), for a file ~25% bigger (bench/merge_bench.py
# measures every level; bench/RESULTS.md). Every part's bytes are the same at any level.
DEFLATE_LEVEL = 1


def write_consolidated(cons: Consolidation, out, reject_errors: bool = False,
                       timestamp: dt.datetime | None = None) -> None:
    write_atomic(out, consolidated_bytes(cons, reject_errors, timestamp))


def write_merge_outputs(cons: Consolidation, out: Path, datapackage: Path | None = None,
                        reject_errors: bool = False, timestamp: dt.datetime | None = None) -> None:
    """The consolidated workbook at `out` and, with `datapackage`, its open data there."""
    data = consolidated_bytes(cons, reject_errors, timestamp)
    workbook = StagedFile(out, data)
    try:
        if datapackage is not None:
            write_datapackage(cons, datapackage, source=Path(out), created=timestamp,
                              source_sha256=hashlib.sha256(data).hexdigest())
        workbook.commit()
    finally:
        workbook.discard()


def consolidated_bytes(cons: Consolidation, reject_errors: bool = False,
                       timestamp: dt.datetime | None = None) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    accepted = cons.accepted
    in_measures = [s for s in accepted if not (reject_errors and s.report.errors)]
    schema = _schema(accepted)
    submissions.summary(wb, accepted, schema.fiscal_year, timestamp)
    measures = values.measures(wb, in_measures, schema)
    services = values.services(wb, accepted, schema)
    findings = submissions.findings(wb, cons)
    by_pillar(wb, in_measures, schema)
    dashboard(wb, in_measures, schema)
    big = [measures, services, findings]
    if cons.changes is not None:
        big.append(values.changes(wb, cons.changes, accepted, schema))
    submissions.sources(wb, cons)
    title = submissions.plan_title(schema.fiscal_year)
    for ws in wb.worksheets:
        set_up_printing(ws, title)
    wb.active = 0
    wb.properties.title = title
    wb.properties.creator = wb.properties.lastModifiedBy = CREATOR
    return workbook_bytes(wb, timestamp=timestamp, transform=splice(big),
                          compresslevel=DEFLATE_LEVEL)


def _schema(accepted: list[Submission]) -> Schema:
    """The schema of the plans consolidated: a merge takes one fiscal year (merge._choose)."""
    years = {s.plan.schema.fiscal_year for s in accepted}
    assert len(years) == 1, f"a consolidated plan is of one fiscal year, not {sorted(years)}"
    return accepted[0].plan.schema
