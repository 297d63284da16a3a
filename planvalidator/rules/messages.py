"""Messages for agency analysts: name the cell, the value, what is wrong and what to enter.

Each function takes a Context (what the failing cell holds and where) and returns one sentence
or two; no Python or pandas words.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Context:
    location: str          # "Measures!M7"
    label: str             # column label
    value: object          # the value as found
    measure_id: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """The value as found: text in quotes, numbers as numbers."""
        v = self.value
        if isinstance(v, float):
            return f"{v:g}"
        return str(v) if isinstance(v, int) else f"'{v}'"

    @property
    def subject(self) -> str:
        return f"{self.label} of measure {self.measure_id}" if self.measure_id else self.label


def _choices(ctx: Context) -> str:
    return ", ".join(ctx.extra.get("choices", ()))


MESSAGES = {
    "required-missing": lambda c: f"{c.location} ({c.subject}) is empty; it is required.",
    "formula-error": lambda c: (
        f"{c.location} ({c.subject}) holds a formula that shows {c.extra['error']}."
        if c.extra.get("error") else
        f"{c.location} ({c.subject}) holds the formula ={c.extra.get('formula', '')} with no "
        f"saved result (the workbook was not recalculated and saved in Excel)."),
    "not-a-number": lambda c: f"{c.location} ({c.subject}) holds {c.shown}, which is not a number.",
    "not-a-date": lambda c: f"{c.location} ({c.subject}) holds {c.shown}, which is not a date.",
    "not-in-list": lambda c: (f"{c.location} ({c.subject}) holds {c.shown}, which is not one of "
                              f"the choices: {_choices(c)}."),
    "negative-value": lambda c: f"{c.location} ({c.subject}) is negative ({c.shown}).",
    "percent-out-of-range": lambda c: (
        f"{c.location} ({c.subject}) holds {c.shown} in a Percent measure; percents run from "
        f"0% to 100%" + (f" — did you mean {c.value:g}%?" if isinstance(c.value, (int, float))
                         and 1 < c.value <= 100 else ".")),
    "bad-measure-id": lambda c: (
        f"{c.location} holds the measure ID {c.shown}, which does not name service "
        f"{c.extra['service']} given in Service Number." if "service" in c.extra else
        f"{c.location} holds the measure ID {c.shown}, which is not in the form "
        f"AGENCY-SERVICE-NN (for example BCFD-609-03)."),
    "duplicate-measure-id": lambda c: (
        f"{c.location} holds the measure ID {c.shown}, which is also used on row(s) "
        f"{', '.join(map(str, c.extra['others']))}."),
    "missing-target": lambda c: f"{c.location} ({c.subject}) is empty: every measure needs a target.",
    "placeholder-target": lambda c: (f"{c.location} ({c.subject}) holds {c.shown}, a placeholder "
                                     f"rather than a target."),
    "zero-target": lambda c: f"{c.location} ({c.subject}) is 0.",
    "target-below-baseline": lambda c: (
        f"{c.location} ({c.subject}) is {c.shown}, less ambitious than the last actual "
        f"{c.extra['baseline']:g} for a measure meant to {c.extra['direction'].lower()}, "
        f"and Target Rationale is empty."),
    "unknown-service": lambda c: (f"{c.location}: measure {c.measure_id or ''} belongs to service "
                                  f"{c.shown}, which is not listed on the Services sheet."),
    "service-not-in-catalog": lambda c: (
        f"{c.location}: service {c.shown} is not one of {c.extra['agency']}'s services in "
        f"the FY{c.extra['year']} service catalog."),
    "service-without-measures": lambda c: f"{c.location}: service {c.shown} has no measures.",
    "no-outcome-measure": lambda c: (f"{c.location}: service {c.shown} has no Outcome or "
                                     f"Effectiveness measure."),
    "agency-mismatch": lambda c: (
        f"{c.location} holds {c.shown}, but the plan is for agency {c.extra['agency']}."),
    "missing-midyear-actual": lambda c: (f"{c.location} ({c.subject}) is empty: a Mid-Year "
                                         f"Update reports every measure's mid-year actual."),
    "missing-yearend-actual": lambda c: (f"{c.location} ({c.subject}) is empty: a Year-End "
                                         f"Update reports every measure's year-end actual."),
    "status-inconsistent": lambda c: (
        f"{c.location}: measure {c.measure_id} is marked {c.shown}, but it has no actual to "
        f"report, so its status is No Data." if c.extra["expected"] == "No Data" else
        f"{c.location}: measure {c.measure_id} is marked {c.shown}, but its actual "
        f"{_g(c.extra['actual'])} against the target {_g(c.extra['target'])}"
        f"{' (half the annual target, at mid-year)' if c.extra['prorated'] else ''} "
        f"for a measure meant to {c.extra['direction'].lower()} looks {c.extra['expected']}."),
    "missing-status-explanation": lambda c: (
        f"{c.location} ({c.subject}) is empty while Status is {c.extra['status']}: explain "
        f"what happened."),
}


def _g(v) -> str:
    return "none" if v is None or v != v else f"{v:g}"


def message(code: str, ctx: Context) -> str:
    return MESSAGES[code](ctx)
