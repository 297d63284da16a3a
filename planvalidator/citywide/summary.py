"""What a merge, a sync, a roll forward and a diff did: as data, as JSON, as a short text table."""

from __future__ import annotations

import json
from collections import Counter

from ..output.marks import plural
from .consolidated.submissions import status
from .targets import missing_targets


def merge_summary(cons, out) -> dict:
    """What a merge did, as data: the same for the text table and --format json."""
    agencies = [{"agency": s.agency, "stage": s.stage, "fiscal_year": s.fiscal_year,
                 "measures": len(s.plan.measures.rows),
                 "missing_targets": missing_targets(s.plan),
                 "errors": s.report.errors, "warnings": s.report.warnings,
                 "status": status(s),
                 "source": s.name} for s in cons.accepted]
    return {
        "output": str(out),
        "fiscal_year": cons.fiscal_year, "stage": cons.stage, "chosen": cons.chosen_because,
        "agencies": agencies,
        "superseded": [{"source": s.name, "agency": s.agency, "superseded_by": s.superseded_by,
                        "reason": s.superseded_why} for s in cons.superseded],
        "left_out": [{"source": s.name, "agency": s.agency, "fiscal_year": s.fiscal_year,
                      "stage": s.stage, "reason": f"{s.left_out}, not FY{cons.fiscal_year} "
                                                  f"{cons.stage}"} for s in cons.left_out],
        "unreadable": [{"source": s.name, "reason": s.report.findings[0].message}
                       for s in cons.unreadable],
        "not_read": [{"source": p.name, "reason": why} for p, why in cons.not_read],
        "totals": {k: sum(a[k] for a in agencies)
                   for k in ("measures", "missing_targets", "errors", "warnings")},
    }


def merge_json(cons, out) -> str:
    return json.dumps(merge_summary(cons, out), indent=2, ensure_ascii=False)


def merge_text(cons, out) -> str:
    data = merge_summary(cons, out)
    rows = [("Agency", "Stage", "Measures", "Missing targets", "Errors", "Warnings", "Status")]
    rows += [(a["agency"] or a["source"], a["stage"], a["measures"], a["missing_targets"],
              a["errors"], a["warnings"], a["status"]) for a in data["agencies"]]
    t = data["totals"]
    rows.append(("Total", "", t["measures"], t["missing_targets"], t["errors"], t["warnings"], ""))
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    lines = [f"Consolidating {data['chosen']}"] if data["chosen"] else []
    lines += ["  ".join(str(v).ljust(w) if c < 2 or c == 6 else str(v).rjust(w)
                        for c, (v, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
    lines += _left_out(data)
    lines.append(f"Wrote {out}")
    return "\n".join(lines)


def _left_out(data: dict) -> list[str]:
    """The superseded, left out, unreadable and unread files of a merge or sync summary, one
    line each."""
    return ([f"Superseded: {s['source']} ({s['agency']}) by {s['superseded_by']}"
             + (f" — {s['reason']}" if s["reason"] else "") for s in data["superseded"]]
            + [f"Left out: {s['source']} ({s['agency']}) — {s['reason']}"
               for s in data.get("left_out", ())]
            + [f"Left out, unreadable: {u['source']}: {u['reason']}" for u in data["unreadable"]]
            + [f"Not read: {n['source']} — {n['reason']}" for n in data.get("not_read", ())])


# --- the budget cycle: sync, roll forward, diff ----------------------------------------------

def _shown(v) -> str:
    if v is None or v == "":
        return "(empty)"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _table(rows: list[tuple], right: set[int]) -> list[str]:
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(str(v).rjust(w) if c in right else str(v).ljust(w)
                      for c, (v, w) in enumerate(zip(r, widths))).rstrip() for r in rows]


def sync_summary(result, out) -> dict:
    """What a sync did, as data: the same for the text table and --format json."""
    from .sync import SYNC_CODES   # here: merge's summary needs no sync
    changes = Counter(c.agency for c in result.changes)
    agencies = [{"agency": s.agency, "stage": s.stage, "source": s.name,
                 "changes": changes[s.agency],
                 "errors": s.report.errors, "warnings": s.report.warnings}
                for s in result.applied]
    return {
        "output": str(out), "consolidated": result.citywide.path.name,
        "fiscal_year": result.citywide.schema.fiscal_year,
        "agencies": agencies, "not_updated": result.not_updated,
        "changes": [c.as_dict() for c in result.changes],
        "sync_findings": [dict(f.as_dict(), agency=s.agency, source=s.name)
                          for s in result.applied for f in s.report.findings
                          if f.code in SYNC_CODES],
        "superseded": [{"source": s.name, "agency": s.agency, "superseded_by": s.superseded_by,
                        "reason": s.superseded_why} for s in result.updates.superseded],
        "unreadable": [{"source": s.name, "reason": s.report.findings[0].message}
                       for s in result.updates.unreadable],
        "not_read": [{"source": p.name, "reason": why} for p, why in result.updates.not_read],
        "totals": {"changes": len(result.changes),
                   "errors": sum(a["errors"] for a in agencies),
                   "warnings": sum(a["warnings"] for a in agencies)},
    }


def sync_json(result, out) -> str:
    return json.dumps(sync_summary(result, out), indent=2, ensure_ascii=False)


def sync_text(result, out) -> str:
    data = sync_summary(result, out)
    rows = [("Agency", "Stage", "Changes", "Errors", "Warnings", "Update")]
    rows += [(a["agency"], a["stage"], a["changes"], a["errors"], a["warnings"], a["source"])
             for a in data["agencies"]]
    t = data["totals"]
    rows.append(("Total", "", t["changes"], t["errors"], t["warnings"], ""))
    lines = _table(rows, right={2, 3, 4})
    found = data["sync_findings"]
    if found:
        width_loc = max(len(f["agency"]) + len(f["sheet"]) + len(f["cell"]) + 4 for f in found)
        width_code = max(len(f["code"]) for f in found)
        for f in found:
            where = f"{f['agency']} › {f['sheet']}" + (f"!{f['cell']}" if f["cell"] else "")
            lines.append(f"  {f['severity']:<7} {where:<{width_loc}}  {f['code']:<{width_code}}  "
                         f"{f['message']}")
    if data["not_updated"]:
        lines.append(f"Not updated: {', '.join(data['not_updated'])}")
    lines += _left_out(data)
    lines.append(f"Wrote {out} (every finding is on its Findings sheet, every change on Changes)")
    return "\n".join(lines)


def rollforward_text(result, schema) -> str:
    year = schema.fiscal_year
    lines = [str(p) for p in result.paths]
    for d in result.dropped:
        measures = f", with its measures {', '.join(d.measures)}" if d.measures else ""
        lines.append(f"Left out: {d.agency} service {d.service} {d.name} (not in the FY{year} "
                     f"catalog){measures}")
    for code in result.without_plan:
        lines.append(f"{code}: no FY{year - 1} plan to roll forward; its template is pre-filled "
                     f"from the FY{year} catalog only")
    for code in result.not_in_catalog:
        lines.append(f"Left out: {code} (not an agency of the FY{year} catalog)")
    return "\n".join(lines)


def diff_json(diff) -> str:
    return json.dumps(diff.as_dict(), indent=2, ensure_ascii=False)


def diff_text(diff) -> str:
    d = diff.as_dict()["summary"]
    years = (f"FY{diff.old_year}" if diff.old_year == diff.new_year
             else f"FY{diff.old_year} → FY{diff.new_year}")
    lines = [f"{diff.old} → {diff.new} ({years}): "
             f"{plural(d['changed_values'], 'value')} changed in "
             f"{plural(d['changed_measures'], 'measure')}, {d['added']} added, "
             f"{d['removed']} removed"]
    if diff.old_year != diff.new_year:
        lines.append(f"Columns are matched by their place in the template (the FY{diff.old_year} "
                     f"plan's target faces the FY{diff.new_year} target).")
    rows = []
    for x in diff.differences:
        if x.change == "changed":
            rows.append((x.agency, x.measure_id, x.field, f"{_shown(x.old)} → {_shown(x.new)}"))
        else:
            rows.append((x.agency, x.measure_id, x.change, _shown(x.new if x.change == "added"
                                                                   else x.old)))
    if rows:
        lines += ["  " + line for line in _table(rows, right=set())]
    return "\n".join(lines)
