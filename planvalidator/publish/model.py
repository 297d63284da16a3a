"""What the site shows, taken from a consolidated plan read back (citywide.consolidated.read):
the published agencies (plans without errors) with their services by pillar and their measures,
every value already in its public form (values.py). The templates only lay it out.

Which column plays which part comes from the schema's keys and roles, never from a literal
label, so a renamed status or unit still lands in the right place.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from ..output.opendata import public_title
from .values import NO_TARGET, NOT_REPORTED, date_words, is_number, shown

# Measure columns shown as text beside the measure (schema key → label on the page).
DETAILS = (("measure_type", "Type"), ("unit", "Unit"), ("direction", "Desired direction"),
           ("frequency", "Reporting frequency"), ("data_source", "Data source"),
           ("target_rationale", "Target rationale"))
REPORTED = ("midyear_actual", "yearend_actual")   # the plan year's reports (not history)
PILLAR_COLUMNS = frozenset(("target",) + REPORTED)


@dataclass
class Figure:
    """One number of a measure: its label, schema key, the value as found and as shown."""
    label: str
    key: str
    value: object
    text: str
    is_target: bool
    number: float | None   # the value when it is a number (charted, and a <data> value)


@dataclass
class Measure:
    id: str
    anchor: str
    agency: str
    name: str
    details: list[tuple[str, str, str]]     # (key, label, text), empty ones left out
    figures: list[Figure]
    key_measure: bool
    equity_focus: bool
    status: str
    status_class: str
    explanation: str

    @property
    def to_discuss(self) -> bool:
        return self.status_class in ("off-track", "at-risk")

    @property
    def reports(self) -> list[Figure]:
        """The plan year's target, mid-year and year-end actuals (a pillar page's columns)."""
        return [f for f in self.figures if f.key in PILLAR_COLUMNS]


@dataclass
class Service:
    agency: str
    number: object
    name: str
    pillar: str
    budget: str
    description: str
    measures: list[Measure] = field(default_factory=list)


@dataclass
class Agency:
    code: str
    name: str
    slug: str
    stage: str
    reported: bool                       # a Mid-Year or Year-End Update: statuses are given
    submitted: str                       # the submission date in words
    services: list[Service]
    status_mix: list[tuple[str, str, int]]   # (status, css class, count)

    @property
    def measures(self) -> list[Measure]:
        return [m for s in self.services for m in s.measures]

    @property
    def key_measures(self) -> int:
        return sum(m.key_measure for m in self.measures)

    @property
    def to_discuss(self) -> list[Measure]:
        """Off Track first, then At Risk: the office's order in a performance discussion."""
        return sorted((m for m in self.measures if m.to_discuss),
                      key=lambda m: m.status_class != "off-track")

    def by_pillar(self, pillars: tuple[str, ...]) -> list[tuple[str, list[Service]]]:
        order = {p: i for i, p in enumerate(pillars)}
        found = sorted({s.pillar for s in self.services}, key=lambda p: (order.get(p, len(order)), p))
        return [(p, [s for s in self.services if s.pillar == p]) for p in found]


@dataclass
class Site:
    city: str
    fiscal_year: int
    year_span: str                       # "July 1, 2027 to June 30, 2028"
    stage: str                           # the latest stage among the published plans
    pillars: tuple[str, ...]
    agencies: list[Agency]
    under_revision: list[tuple[str, str]]   # (code, name) of plans with errors
    statuses: tuple[str, ...]

    def pillar_slug(self, pillar: str) -> str:
        return "pillar-" + slug(pillar) + ".html"

    def in_pillar(self, pillar: str) -> list[tuple[Agency, list[Service]]]:
        out = []
        for agency in self.agencies:
            services = [s for s in agency.services if s.pillar == pillar]
            if services:
                out.append((agency, services))
        return out

    @property
    def used_pillars(self) -> list[str]:
        return [p for p in self.pillars if self.in_pillar(p)] + sorted(
            {s.pillar for a in self.agencies for s in a.services} - set(self.pillars))


def slug(text: str) -> str:
    """A file name or HTML id from untrusted text: lower-case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def city_name(schema) -> str:
    """The city, as open data names it: the first word of the schema_id."""
    return schema.schema_id.split("-")[0].capitalize()


def site_model(city) -> Site:
    """The site of a consolidated plan (a citywide.consolidated.read.Citywide)."""
    schema = city.schema
    roles = schema.roles
    current = sorted(city.agencies.values(), key=lambda s: s.agency)
    published = [s for s in current if not s.report.errors]
    agencies = [_agency(s, schema) for s in published]
    stages = schema.stages
    latest = max((stages.index(a.stage) for a in agencies if a.stage in stages), default=0)
    year = schema.fiscal_year
    return Site(
        city=city_name(schema), fiscal_year=year,
        year_span=f"{date_words(dt.date(year - 1, 7, 1))} to {date_words(dt.date(year, 6, 30))}",
        stage=stages[latest], pillars=schema.lists.get("pillars", ()), agencies=agencies,
        under_revision=[(s.agency, s.agency_name) for s in current if s.report.errors],
        statuses=roles.statuses)


def _agency(sub, schema) -> Agency:
    roles, plan = schema.roles, sub.plan
    classes = status_classes(roles)
    services, by_number = [], {}
    s_data = plan.services
    for i in range(len(s_data.rows)):
        v = _row(s_data, i)
        service = Service(agency=sub.agency, number=v["service_number"],
                          name=_text(v["service_name"]), pillar=_text(v["pillar"]),
                          budget=shown(v.get("budget"), roles.dollars_unit, roles, ""),
                          description=_text(v.get("description")))
        services.append(service)
        by_number.setdefault(service.number, service)
    measures = [_measure(_row(plan.measures, i), sub.agency, schema, classes)
                for i in range(len(plan.measures.rows))]
    for m, number in measures:
        if number not in by_number:   # not possible in a plan without errors; kept, not lost
            by_number[number] = Service(agency=sub.agency, number=number, name="Other measures",
                                        pillar="", budget="", description="")
            services.append(by_number[number])
        by_number[number].measures.append(m)
    reported = plan.stage in schema.stages[1:]
    mix = []
    if reported:
        counts = {s: 0 for s in roles.statuses}
        for m, _ in measures:
            if m.status in counts:
                counts[m.status] += 1
        mix = [(s, classes[s], n) for s, n in counts.items()]
    return Agency(code=sub.agency, name=sub.agency_name or sub.agency, slug=slug(sub.agency),
                  stage=plan.stage, reported=reported, submitted=date_words(sub.submission_date),
                  services=services, status_mix=mix)


def status_classes(roles) -> dict[str, str]:
    return {roles.on_track: "on-track", roles.at_risk: "at-risk", roles.off_track: "off-track",
            roles.no_data: "no-data"}


def _measure(v: dict, agency: str, schema, classes: dict) -> tuple[Measure, object]:
    roles = schema.roles
    unit = _text(v.get("unit"))
    figures = []
    for key, label in _figure_columns(schema):
        is_target = key == "target"
        if key not in REPORTED and not is_target and v.get(key) in (None, ""):
            continue   # no history to show
        figures.append(Figure(label=label, key=key, value=v.get(key),
                              text=shown(v.get(key), unit, roles,
                                         NO_TARGET if is_target else NOT_REPORTED),
                              is_target=is_target or "target" in key,
                              number=v.get(key) if is_number(v.get(key)) else None))
    keys = set(schema.measures.keys)
    details = [(k, label, _text(v.get(k))) for k, label in DETAILS
               if k in keys and _text(v.get(k))]
    status = _text(v.get("status"))
    mid = _text(v["measure_id"])
    return Measure(
        id=mid, anchor=slug(mid), agency=agency, name=_text(v.get("measure_name")),
        details=details, figures=figures,
        key_measure=v.get("key_measure") == roles.key_measure,
        equity_focus=v.get("equity_focus") == roles.key_measure,   # the schema's "Yes"
        status=status, status_class=classes.get(status, ""),
        explanation=_text(v.get("status_explanation"))), v.get("service_number")


@functools.cache
def _figure_columns(schema) -> tuple[tuple[str, str], ...]:
    """(key, public label) of the measure's numbers, in the schema's order."""
    return tuple((c.key, public_title(c, schema.fiscal_year)) for c in schema.measures.columns
                 if c.type == "measure")


def _row(data, i: int) -> dict:
    return {k: values[i] for k, values in data.values.items()}


def _text(value) -> str:
    if value is None:
        return ""
    return date_words(value) if isinstance(value, (dt.date, dt.datetime)) else str(value).strip()
