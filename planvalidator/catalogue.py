"""The catalogue of every finding code, with the templates that word its messages.

Codes are an API: agencies, scripts and the docs refer to them, so a code never changes
meaning and never disappears. docs/findings.md is generated from CATALOGUE. Each entry also
holds its message template(s), as frictionless keeps an error's template with its type: the
code that finds a problem supplies only facts (named fields), and `findings.finding` words
every message, and every hint that says more than the entry's fix, from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .safetext import quote

ERROR, WARNING, INFO = "error", "warning", "info"
# A report's bounds, so that its size and the work of wording it grow with the plan, never
# with the plan's findings squared (a plan at the reader's caps can have 400,000 failing
# cells). The largest real plans have ~400 measures, so a real column is never cut; beyond
# that the cells share a cause and one summary serves the analyst better. 2,000 findings keep
# a text report under ~600 KB, cost well under a second to word, and stay far within xlwings'
# 10,000 cells per set_colors call in the add-in.
COLUMN_CAP = 500        # findings of one code on one column of a sheet
MAX_FINDINGS = 2_000    # findings in one report, besides more-findings summaries
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
DOCUMENTED = ("code", "severity", "family", "title", "explanation", "fix", "example")


class _Missing:
    """A missing number (None or NaN): "none" under a number format spec such as {actual:g}."""

    def __init__(self, value):
        self.value = value

    def __format__(self, spec: str) -> str:
        return "none" if spec[-1:] in ("g", "f", "d") else format(self.value, spec)


# Facts that quote a cell's text: a message shows at most ~100 characters of each.
_QUOTED = frozenset({"shown", "text", "measure_id", "name", "agency", "version", "made_for"})


class _Facts(dict):
    """The facts a template is formatted with (str.format_map), missing numbers wrapped and
    quoted cell text cut short."""

    def __getitem__(self, name):
        value = dict.__getitem__(self, name)
        if isinstance(value, str) and name in _QUOTED:
            return _quoted(value)
        return _Missing(value) if value is None or value != value else value


def _quoted(text: str) -> str:
    """A value cut to its first ~100 characters; a quoted one ('...') keeps its closing quote."""
    if len(text) > 2 and text[0] == text[-1] == "'":
        return f"'{quote(text[1:-1])}'"
    return quote(text)


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    family: str
    title: str
    explanation: str
    fix: str
    example: str
    # variant → str.format template over the finder's facts; "" is the plain sentence, and a
    # fact named `variant` picks another (e.g. a formula with an error vs one never saved).
    messages: dict[str, str] = field(default_factory=dict, hash=False)
    hints: dict[str, str] = field(default_factory=dict, hash=False)   # else `fix`

    def message(self, **facts) -> str:
        return self.messages[facts.get("variant", "")].format_map(_Facts(facts))

    def hint(self, **facts) -> str:
        template = self.hints.get(facts.get("variant", ""))
        return self.fix if template is None else template.format_map(_Facts(facts))

    def as_dict(self) -> dict:
        """The documented fields (`codes --format json`)."""
        return {k: getattr(self, k) for k in DOCUMENTED}


def _c(code, severity, family, title, explanation, fix, example, message, hint=None):
    """An entry; `message` and `hint` are one template or a dict of them by variant."""
    def variants(t):
        return {"": t} if isinstance(t, str) else dict(t or {})
    return Code(code, severity, family, title, explanation, fix, example,
                variants(message), variants(hint))


CATALOGUE: dict[str, Code] = {c.code: c for c in [
    # structure
    _c("unreadable-workbook", ERROR, "structure", "The file cannot be read as a plan workbook",
       "The file is not an Excel workbook the tool can open safely: it is corrupt, encrypted, "
       "a legacy .xls file, or far larger than any plan workbook.",
       "Save the plan from Excel as an Excel Workbook (.xlsx) without a password and send it again.",
       "plan.xls is a legacy Excel 97-2003 file",
       message="{reason}"),
    _c("missing-sheet", ERROR, "structure", "A required sheet is missing",
       "The workbook has no sheet with this name, so nothing on it can be checked.",
       "Start from the current template, or restore the sheet with its original name.",
       "The workbook has no sheet named 'Measures'",
       message="The workbook has no sheet named '{sheet}'.",
       hint="Start from the current template, or restore the '{sheet}' sheet."),
    _c("duplicate-sheet", ERROR, "structure", "Two sheets have the same plan sheet's name",
       "Two or more sheets have the name of one plan sheet once letter case and spaces around "
       "the name are ignored (such as 'Measures' and a hidden 'Measures '). Only one of them is "
       "checked: the one Excel shows.",
       "Keep one sheet with this name: delete the others or give them a different name.",
       "The workbook has 2 sheets named 'Measures': 'Measures' was checked, not 'Measures ' "
       "(very hidden)",
       message="The workbook has {count} sheets named '{sheet}': '{read}' was checked, not "
               "{others}.",
       hint="Keep one sheet named '{sheet}': delete the others or rename them (a very hidden "
            "sheet can only be removed by copying your entries into the current template)."),
    _c("hidden-sheet", WARNING, "structure", "A plan sheet is hidden",
       "A plan sheet is hidden in Excel, so what is checked and submitted is not what the "
       "analyst sees on screen.",
       "Unhide the sheet (right-click a sheet tab > Unhide) and check its entries.",
       "The Measures sheet is hidden",
       message={
           "hidden": "The '{sheet}' sheet is hidden in Excel.",
           "veryHidden": "The '{sheet}' sheet is very hidden: Excel does not list it under "
                         "Unhide."},
       hint={
           "veryHidden": "Copy your entries into the current template, whose plan sheets are "
                         "all visible, and send that workbook."}),
    _c("missing-column", ERROR, "structure", "A required column is missing",
       "The header row of the sheet has no column with this label.",
       "Restore the column header exactly as in the template (it may have been renamed or deleted).",
       "Measures has no column 'FY2028 Target'",
       message={
           "": "The {sheet} sheet has no column '{label}'.",
           "field": "The {sheet} sheet has no row labelled '{label}'.",
           "header": "The {sheet} sheet has no header row with the template's column labels."},
       hint={
           "": "Restore the column '{label}' in the header row (row {header_row}).",
           "field": "Add a row with '{label}' in the Field column, as in the template.",
           "header": "Restore the header row from the template."}),
    _c("template-outdated", ERROR, "structure", "The workbook was built from an outdated template",
       "The workbook comes from an older template version or another fiscal year than the one "
       "being collected.",
       "Copy your entries into the current template for this fiscal year.",
       "Template version 2028.0 is older than the current 2028.1",
       message={
           "year": "This plan is for fiscal year {year}, but fiscal year {collected} is being "
                   "collected.",
           "made-for": "This workbook was made from the FY{made_for} template, but fiscal year "
                       "{collected} is being collected.",
           "version": "This workbook was made from template version {version}; the current "
                      "template is version {current}."},
       hint={
           "year": "Use the FY{collected} template.",
           "made-for": "Copy your entries into the FY{collected} template (version {current}).",
           "version": "Copy your entries into the current FY{collected} template "
                      "(version {current})."}),
    # cell
    _c("required-missing", ERROR, "cell", "A required cell is empty",
       "Every measure, service and agency field marked required must be filled.",
       "Fill in the cell.", "Measures!D7 (Measure Name) is empty",
       message="{location} ({subject}) is empty; it is required."),
    _c("not-a-number", ERROR, "cell", "A number was expected",
       "The cell holds text that cannot be read as a number.",
       "Enter a plain number, such as 1250 or 85%.", "Measures!I5 holds 'about 40'",
       message="{location} ({subject}) holds {shown}, which is not a number."),
    _c("not-a-date", ERROR, "cell", "A date was expected",
       "The cell holds something that cannot be read as a date.",
       "Enter a date such as 2027-08-15.", "Agency!B11 holds 'next week'",
       message="{location} ({subject}) holds {shown}, which is not a date."),
    _c("text-too-long", ERROR, "cell", "A cell holds more text than Excel allows",
       "Excel holds at most 32,767 characters in a cell; a workbook with more was not saved "
       "by Excel, and no copy of it could hold the cell.",
       "Shorten the text to a few sentences and save the workbook in Excel.",
       "Measures!C4 holds 40,000 characters",
       message="{location} ({subject}) holds {length:,} characters, more than the {limit:,} "
       "Excel allows in a cell."),
    _c("not-in-list", ERROR, "cell", "The value is not one of the allowed choices",
       "Closed lists (measure type, unit, direction, frequency, status, pillar, Yes/No) accept "
       "only the choices in the cell's dropdown.",
       "Pick one of the choices from the dropdown.", "Measures!D9 holds 'Outcomes'",
       message="{location} ({subject}) holds {shown}, which is not one of the choices: "
       "{choices}."),
    _c("percent-out-of-range", ERROR, "cell", "A percent is outside 0% to 100%",
       "Measures whose unit is Percent take values between 0% and 100%.",
       "Type the value with a percent sign (85%) or as a fraction (0.85).",
       "Measures!M6 holds 85 in a Percent measure",
       message={
           "": "{location} ({subject}) holds {shown} in a {unit} measure; percents run from 0% "
               "to 100%.",
           "did-you-mean": "{location} ({subject}) holds {shown} in a {unit} measure; percents "
                           "run from 0% to 100% — did you mean {value:g}%?"}),
    _c("negative-value", ERROR, "cell", "A negative value",
       "Counts, amounts, durations and budgets cannot be negative.",
       "Enter zero or a positive number.", "Services!D4 holds -5000",
       message="{location} ({subject}) is negative ({shown})."),
    _c("bad-measure-id", ERROR, "cell", "The measure ID is not in the form AGENCY-SERVICE-NN",
       "A measure ID is the agency code, the service number and a two-digit sequence, "
       "separated by hyphens.",
       "Write the ID like BCFD-609-03.", "Measures!A8 holds 'BCFD609-3'",
       message={
           "": "{location} holds the measure ID {shown}, which is not in the form "
               "AGENCY-SERVICE-NN (for example BCFD-609-03).",
           "service": "{location} holds the measure ID {shown}, which does not name service "
                      "{service} given in Service Number."}),
    _c("duplicate-measure-id", ERROR, "cell", "The same measure ID is used twice",
       "Each measure needs its own ID so that updates can be matched to it.",
       "Give each measure a different sequence number.", "BCFD-609-01 on rows 5 and 9",
       message="{location} holds the measure ID {shown}, which is also used on "
       "row(s) {others}."),
    _c("formula-error", ERROR, "cell", "A formula gives an error or no value",
       "The cell holds a formula whose result is an error (#DIV/0!, #N/A, ...) or that has no "
       "saved result.",
       "Fix the formula or type the value itself, then save the workbook in Excel.",
       "Measures!M12 shows #DIV/0!",
       message={
           "error": "{location} ({subject}) holds a formula that shows {error}.",
           "unsaved": "{location} ({subject}) holds the formula ={formula} with no saved "
                      "result (the workbook was not recalculated and saved in Excel)."}),
    _c("value-interpreted", INFO, "cell", "The tool interpreted a value",
       "The cell held text that the tool read as a number or date (for example '85%' as 0.85). "
       "This is only a note: check that the reading is what you meant.",
       "Nothing to do if the reading is right; typing numbers as numbers avoids the note.",
       "Measures!M5 '85%' read as 0.85",
       message={
           "percent": "{location} ({subject}): the text '{text}' was read as {percent:g}% "
                      "(stored as {number:g}).",
           "number": "{location} ({subject}): the text '{text}' was read as the number "
                     "{number:g}.",
           "date": "{location} ({subject}): the text '{text}' was read as the date {date}."}),
    # targets
    _c("missing-target", ERROR, "targets", "A measure has no target",
       "Every measure needs a target for the plan year: it is what the plan commits to.",
       "Enter the target for the fiscal year in the target column.",
       "Measures!M7 (FY2028 Target) is empty",
       message="{location} ({subject}) is empty: every measure needs a target."),
    _c("placeholder-target", ERROR, "targets", "The target is a placeholder",
       "'TBD', 'N/A', '?' and similar are not targets.",
       "Enter the number the agency commits to; explain uncertainty in Target Rationale.",
       "Measures!M8 holds 'TBD'",
       message="{location} ({subject}) holds {shown}, a placeholder rather than a "
       "target."),
    _c("target-below-baseline", WARNING, "targets", "The target is less ambitious than the last actual",
       "Given the measure's desired direction, the target is worse than the most recent actual, "
       "and no rationale explains why.",
       "Raise (or lower) the target, or explain the choice in Target Rationale.",
       "Increase measure with FY2026 actual 90 and FY2028 target 80",
       message="{location} ({subject}) is {shown}, less ambitious than the last actual "
       "{baseline:g} for a measure meant to {direction}, and Target Rationale is empty."),
    _c("zero-target", WARNING, "targets", "The target is zero",
       "A zero target is unusual and often a placeholder.",
       "Check the target; explain a real zero in Target Rationale.", "Measures!M10 holds 0",
       message="{location} ({subject}) is 0."),
    # plan
    _c("unknown-service", ERROR, "plan", "The measure's service is not on the Services sheet",
       "Each measure belongs to a service listed on the Services sheet.",
       "Add the service to the Services sheet or correct the service number.",
       "Measures!B6 holds 611, which Services does not list",
       message="{location}: measure {measure_id} belongs to service {shown}, which is not "
       "listed on the Services sheet."),
    _c("service-not-in-catalog", ERROR, "plan", "The service is not in the city's service catalog",
       "The service number is not one of the agency's budget services for this fiscal year.",
       "Use the service number from the budget book; contact the performance office if it is new.",
       "Services!A5 holds 999",
       message="{location}: service {shown} is not one of {agency}'s services in the "
       "FY{year} service catalog."),
    _c("service-without-measures", WARNING, "plan", "A service has no measures",
       "Every listed service should have at least one measure.",
       "Add measures for the service, or remove it from the Services sheet.",
       "Services!A6 (service 610) has no measures",
       message="{location}: service {shown} has no measures."),
    _c("no-outcome-measure", WARNING, "plan", "A service has no Outcome or Effectiveness measure",
       "Each service should say how well it works or how much better off people are, not only "
       "how much it does.",
       "Add an Outcome or Effectiveness measure for the service.",
       "Service 609 has only Output measures",
       message="{location}: service {shown} has no {outcome_types} measure."),
    _c("measure-id-collision", ERROR, "plan", "Two agencies use the same measure ID",
       "When plans are merged, every measure ID must belong to one agency only, so that updates "
       "reach the right measure.",
       "Use your own agency code in the ID; the performance office can help if the ID was assigned.",
       "DOT-683-01 in both the DOT and the DPW plans",
       message="{location} holds the measure ID '{measure_id}', which {others} also uses."),
    _c("agency-mismatch", ERROR, "plan", "The agency code disagrees",
       "A measure ID or the workbook's template names another agency than the Agency sheet.",
       "Use the agency code from the Agency sheet in every measure ID.",
       "Measures!A5 'DOT-609-01' in a BCFD plan",
       message={
           "": "{location} holds {shown}, but the plan is for agency {agency}.",
           "template": "This template was made for {owner}, but the Agency Code says {agency}."},
       hint={"template": "Use the template made for {agency}, or correct the Agency Code."}),
    # reporting stage
    _c("missing-midyear-actual", ERROR, "stage", "A mid-year actual is missing",
       "A Mid-Year Update reports the mid-year actual of every measure.",
       "Enter the mid-year actual, or set Status to No Data and explain why.",
       "Measures!Q5 (Mid-Year Actual) is empty",
       message="{location} ({subject}) is empty: a {stage} reports every measure's "
       "mid-year actual."),
    _c("missing-yearend-actual", ERROR, "stage", "A year-end actual is missing",
       "A Year-End Update reports the year-end actual of every measure.",
       "Enter the year-end actual, or set Status to No Data and explain why.",
       "Measures!R5 (Year-End Actual) is empty",
       message="{location} ({subject}) is empty: a {stage} reports every measure's "
       "year-end actual."),
    _c("status-inconsistent", WARNING, "stage", "The status disagrees with the actual and target",
       "Judged by the actual, the target and the desired direction, the measure's status "
       "looks different from the one entered.",
       "Check the actual and the target, or correct the status.",
       "On Track with actual 40 against an Increase target of 100",
       message={
           "": "{location}: measure {measure_id} is marked {shown}, but its actual {actual:g} "
               "against the target {target:g} for a measure meant to {direction} looks "
               "{expected}.",
           "prorated": "{location}: measure {measure_id} is marked {shown}, but its actual "
                       "{actual:g} against the target {target:g} (half the annual target, at "
                       "mid-year) for a measure meant to {direction} looks {expected}.",
           "no-actual": "{location}: measure {measure_id} is marked {shown}, but it has no "
                        "actual to report, so its status is {no_data}."}),
    _c("missing-status-explanation", ERROR, "stage", "An At Risk or Off Track status has no explanation",
       "Measures that are At Risk or Off Track need a short explanation.",
       "Explain in Status Explanation what happened and what the agency will do.",
       "Measures!T5 is empty while Status is Off Track",
       message="{location} ({subject}) is empty while Status is {status}: explain "
       "what happened."),
    # sync: an update compared with the approved plan
    _c("target-changed", ERROR, "sync", "A target differs from the approved plan",
       "Targets are locked once the plan is approved: a Mid-Year or Year-End Update reports "
       "actuals against the approved targets and does not change them. The approved target "
       "stays in the consolidated plan unless the performance office accepts the change.",
       "Restore the approved target and explain the difference in Status Explanation; ask the "
       "performance office if the target really has to change.",
       "Measures!M6 holds 180 where the approved FY2027 target is 200",
       message="{location} ({label} of measure {measure_id}) holds {shown}, but the approved "
       "plan's target is {approved}; targets are locked once the plan is approved.",
       hint="Restore the approved target {approved} and explain the difference in "
       "{explanation}; the performance office decides on target changes."),
    _c("measure-added", ERROR, "sync", "An update holds a measure the approved plan does not have",
       "An update reports on the measures of the approved plan; a new measure is added to the "
       "consolidated plan only when the performance office accepts it.",
       "Remove the row, or ask the performance office to add the measure to the plan.",
       "Measures!A15 holds DOT-683-05, which is not in the approved plan",
       message="{location} holds measure {measure_id}, which is not in the approved FY{year} "
       "plan."),
    _c("measure-removed", ERROR, "sync", "An update lacks a measure of the approved plan",
       "Every measure of the approved plan is reported on in each update; a measure is dropped "
       "from the consolidated plan only when the performance office accepts it.",
       "Restore the measure's row from the approved plan and report its actuals, or set Status "
       "to No Data and explain why.",
       "Measure DOT-684-02 of the approved plan is missing from the Measures sheet",
       message="Measure {measure_id} of the approved FY{year} plan ('{name}') is missing "
       "from the {sheet} sheet."),
    # report: the bounds of a report (bounds.py)
    _c("more-findings", INFO, "report", "More cells of a column have the same finding",
       f"A report lists at most {COLUMN_CAP} findings of one code in one column; this one "
       "counts the others. They usually share one cause, such as a row copied down the sheet.",
       "Fix the cells listed (the others likely share their cause) and validate again.",
       "19,497 more cells of Measure ID on the Measures sheet, from A504 on, are "
       "duplicate-measure-id",
       message="{count:,} more cells of {column} on the {sheet} sheet, from {first} on, are "
       "{code} like the {listed} listed."),
    _c("too-many-findings", INFO, "report", "The plan has more findings than a report lists",
       f"A report lists at most {MAX_FINDINGS:,} findings, errors first, then in sheet and row "
       "order; this one counts the others.",
       "Fix the findings listed and validate again to see the rest.",
       "6,000 more findings are not listed",
       message="{count:,} more findings are not listed: a report lists at most {limit:,}, "
       "errors first."),
]}
