"""A report's bounds (findings.COLUMN_CAP, findings.MAX_FINDINGS): what is listed, and the
summaries that count the rest, so that a report grows with the plan, never with its square."""

from __future__ import annotations

from .findings import COLUMN_CAP, MAX_FINDINGS, SEVERITY_ORDER, Finding, finding


def more_findings(code: str, count: int, **where) -> Finding:
    """The summary of `count` findings of `code` beyond COLUMN_CAP in the column at `where`
    (sheet, column, and the first left out: cell, row)."""
    return finding("more-findings", {
        "count": count, "code": code, "column": where["column"], "sheet": where["sheet"],
        "first": where["cell"], "listed": COLUMN_CAP}, value=count, **where)


def bounded(findings: list[Finding]) -> list[Finding]:
    """At most COLUMN_CAP findings of one code on one column (the first in report order) and
    one more-findings counting the rest; at most MAX_FINDINGS in all, errors first, and one
    too-many-findings counting the rest. Summaries among `findings` are kept as they are, so
    bounding bounded findings changes nothing."""
    groups: dict[tuple, list[Finding]] = {}
    summaries, left_out = [], 0
    for f in findings:
        if f.code == "too-many-findings":
            left_out += f.value
        elif f.code == "more-findings":
            summaries.append(f)
        else:
            groups.setdefault((f.code, f.sheet, f.column), []).append(f)
    listed = []
    for (code, *_), members in groups.items():
        members.sort(key=Finding.sort_key)
        listed += members[:COLUMN_CAP]
        if len(members) > COLUMN_CAP:
            first = members[COLUMN_CAP]
            summaries.append(more_findings(code, len(members) - COLUMN_CAP, sheet=first.sheet,
                                           column=first.column, cell=first.cell, row=first.row))
    listed.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.sort_key()))
    left_out += max(0, len(listed) - MAX_FINDINGS)
    out = listed[:MAX_FINDINGS] + summaries
    if left_out:
        out.append(finding("too-many-findings", {"count": left_out, "limit": MAX_FINDINGS},
                           value=left_out))
    return out
