"""The sheets about the submissions: Summary (one row per agency's plan, a title and a total),
Findings (every submission's, each saying whether its submission is the one in the plan) and
Sources (every file read)."""

from __future__ import annotations

import datetime as dt

from ...findings import ERROR
from ...output.atomic import FIXED_TIMESTAMP
from ...output.opendata import ACCEPTED, NEEDS_REVISION
from ..merge import Consolidation, Submission
from ..targets import missing_targets
from .layout import (BOLD, FINDINGS_HEADER, SEVERITY_FILLS, SOURCES_HEADER, SUBMISSION,
                     SUMMARY_HEADER, TITLE_FONT, TOTAL, header, plain_value, table, write_row)
from ...output.bigsheet import BigSheet

SUMMARY_HEADER_ROW = 2   # under the title
SUMMED = ("Services", "Measures", "Key Measures", "Missing Targets", "Errors", "Warnings")


def status(sub: Submission) -> str:
    """An accepted submission's status on Summary and its Result on Sources."""
    return NEEDS_REVISION if sub.report.errors else ACCEPTED


def plan_title(year: int) -> str:
    """'FY2028 Citywide Performance Plan': the workbook's title and its sheets' titles."""
    return f"FY{year} Citywide Performance Plan"


def summary(wb, accepted: list[Submission], year: int, timestamp: dt.datetime | None) -> None:
    """The title (the document's date: fixed unless --timestamp, so the same inputs give the
    same bytes), the header, a row per agency and the Total row under the table."""
    ws = wb.create_sheet("Summary")
    when = (timestamp or FIXED_TIMESTAMP).date().isoformat()
    title = f"{plan_title(year)} — Summary of the agencies' plans, {when}"
    ws.cell(1, 1, title).font = TITLE_FONT
    ws.row_dimensions[1].height = 24
    top = SUMMARY_HEADER_ROW
    header(ws, SUMMARY_HEADER, [12, 48, 10, 16, 10, 10, 10, 10, 8, 10, 10, 12, 40, 15],
           row=top, freeze=f"B{top + 1}")
    totals = dict.fromkeys(SUMMED, 0)
    for row, sub in enumerate(accepted, start=top + 1):
        r, plan = sub.report, sub.plan
        key = plan.measures.values.get("key_measure", [])
        counts = dict(zip(SUMMED, [len(plan.services.rows), len(plan.measures.rows),
                                   key.count(plan.schema.roles.key_measure),
                                   missing_targets(plan), r.errors, r.warnings]))
        write_row(ws, row, [sub.agency, sub.agency_name, sub.fiscal_year, sub.stage,
                            *counts.values(), sub.template_version, sub.submission_date,
                            sub.name, status(sub)])
        ws.cell(row, 12).number_format = "yyyy-mm-dd"
        if r.errors:
            ws.cell(row, 14).fill = SEVERITY_FILLS[ERROR]
        for k, v in counts.items():
            totals[k] += v
    table(ws, "Summary", len(SUMMARY_HEADER), len(accepted), header_row=top)
    last = top + max(len(accepted), 1) + 1   # under the table (it keeps one row when empty)
    write_row(ws, last, [TOTAL, None, None, None, *totals.values()])
    for c in range(1, len(SUMMARY_HEADER) + 1):
        ws.cell(last, c).font = BOLD


def findings(wb, cons: Consolidation) -> BigSheet:
    ws = wb.create_sheet("Findings")
    labels = FINDINGS_HEADER + [SUBMISSION]
    header(ws, labels, [10, 36, 26, 9, 24, 14, 22, 16, 80, 60, 12], freeze="B2")
    sheet = BigSheet(ws, width=len(labels))
    for sub in sorted(cons.submissions, key=lambda s: (s.agency, s.name)):
        result = sub.result   # once per file: it looks through the file's findings
        for f in sub.report.findings:
            where = f"{sub.agency or sub.name} › {f.location}" if f.location else sub.name
            sheet.rows.append(([sub.agency, sub.name, where, f.severity, f.code, f.measure_id,
                                f.column, plain_value(f.value), f.message, f.hint, result],
                               0))
    table(ws, "Findings", len(labels), len(sheet.rows))
    return sheet


def source_rows(subs: list[Submission]) -> list[list]:
    """The Sources rows of these submissions, by file name. An accepted file's Result is its
    status on Summary (Accepted / Needs revision)."""
    rows = []
    for sub in sorted(subs, key=lambda s: s.name):
        reason = sub.report.findings[0].message if not sub.readable else sub.superseded_why
        result = status(sub) if sub.result == ACCEPTED else sub.result
        row = [sub.name, sub.sha256, sub.size, sub.agency, sub.fiscal_year, sub.stage,
               sub.template_version, sub.submission_date, result, sub.superseded_by, reason]
        rows.append([None if v == "" else v for v in row])   # empty cells, not empty text
    return rows


def sources(wb, cons: Consolidation) -> None:
    ws = wb.create_sheet("Sources")
    header(ws, SOURCES_HEADER, [40, 66, 12, 10, 10, 16, 10, 12, 15, 40, 60], freeze="B2")
    rows = cons.sources if cons.sources is not None else sorted(
        source_rows(cons.submissions) + [[p.name] + [None] * 7 + ["Not read", None, why]
                                         for p, why in cons.not_read], key=lambda r: r[0])
    for r, row in enumerate(rows, start=2):
        write_row(ws, r, row)
        ws.cell(r, 8).number_format = "yyyy-mm-dd"
    table(ws, "Sources", len(SOURCES_HEADER), len(rows))
