"""The plan schema: one YAML file per fiscal year plus its service catalog, loaded strictly.

The office edits YAML, never Python. A typo must never silently disable a rule, so every
mapping is checked against the keys it may hold and every check and list name against the
ones that exist; the error names the file and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import yaml

from ..errors import SchemaError


def packaged_folder(name: str) -> Path:
    """schemas/ or templates/. The office edits them at the top of the repository; a wheel
    carries them as the data packages planvalidator.schemas and .templates (pyproject.toml)."""
    spec = find_spec(f"planvalidator.{name}")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve()
    # An editable install or a bare checkout: setuptools' editable finder maps no folder
    # without an __init__.py, so the folder is where the office edits it, beside the package.
    return Path(__file__).resolve().parents[2] / name


SCHEMA_DIR = packaged_folder("schemas")   # the bundled schemas
ENV_SCHEMAS = "PLANVALIDATOR_SCHEMAS"   # the office's own folder of schemas (what --schemas sets)

TYPES = ("text", "integer", "number", "dollars", "date", "measure")
NUMERIC_TYPES = ("integer", "number", "dollars", "measure")
# Checks a column may name in `checks:`, and the codes an empty required cell may be reported
# as; rules/ holds the rule behind each (tests/test_schema_roles.py keeps the two in step).
COLUMN_CHECKS = ("non_negative", "measure_id_format", "unique", "real_target")
MISSING_CODES = ("required-missing", "missing-target", "missing-midyear-actual",
                 "missing-yearend-actual")
IDENTITY_SHEET = "_planvalidator"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str = "text"
    required: bool | str = False  # True, or the first stage from which it is required
    missing_code: str = "required-missing"
    list: str | None = None
    checks: tuple[str, ...] = ()
    width: int | None = None
    waived_by_no_data: bool = False  # not required in rows whose Status is No Data, explained


@dataclass(frozen=True)
class Roles:
    """The part each list value plays in the rules (the YAML's `roles:`), so that no Python
    literal repeats a value the office may rename."""
    on_track: str
    at_risk: str
    off_track: str
    no_data: str
    increase: str
    decrease: str
    maintain: str
    plan: str
    midyear: str
    yearend: str
    percent_unit: str
    dollars_unit: str
    cumulative_units: tuple[str, ...]
    outcome_types: tuple[str, ...]
    key_measure: str
    measure_id_pattern: str
    measure_id_parts: str   # a regex with groups `agency` and `service`

    @property
    def statuses(self) -> tuple[str, str, str, str]:
        return (self.on_track, self.at_risk, self.off_track, self.no_data)

    @property
    def directions(self) -> tuple[str, str, str]:
        return (self.increase, self.decrease, self.maintain)


# roles: key → (the list its values belong to, the names of a mapping's entries, or None for
# one value, or "many" for a list of values)
ROLE_KEYS = {
    "status": ("statuses", ("on_track", "at_risk", "off_track", "no_data")),
    "direction": ("directions", ("increase", "decrease", "maintain")),
    "stage": ("stages", ("plan", "midyear", "yearend")),
    "percent_unit": ("units", None),
    "dollars_unit": ("units", None),
    "cumulative_units": ("units", "many"),
    "outcome_types": ("measure_types", "many"),
    "key_measure": ("yes_no", None),
}
PATTERN_ROLES = ("measure_id_pattern", "measure_id_parts")


@dataclass(frozen=True)
class Table:
    name: str
    sheet: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


@dataclass(frozen=True)
class Service:
    number: int
    name: str
    pillar: str


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    services: dict[int, Service]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: loads are cached
class Schema:
    path: Path
    schema_id: str
    fiscal_year: int
    template_version: str
    contact: str
    placeholders: tuple[str, ...]
    at_risk_within: float
    lists: dict[str, tuple[str, ...]]
    roles: Roles
    descriptions: dict[str, dict[str, str]]  # list name → value → text for the Instructions sheet
    agency: Table
    services: Table
    measures: Table
    agencies: dict[str, Agency] = field(repr=False)

    def __reduce__(self):  # pickled by reference (to worker processes and back): reloaded from YAML, cached
        return _load, (self.path,)

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.agency, self.services, self.measures)

    @property
    def stages(self) -> tuple[str, ...]:
        return self.lists["stages"]

    def required_at(self, column: Column, stage: str) -> bool:
        """Whether the column must be filled at this plan stage."""
        if column.required is True or column.required is False:
            return column.required
        stages = self.stages
        return stage in stages and stages.index(stage) >= stages.index(column.required)


def schema_dir() -> Path:
    """The folder of fyYEAR.yaml schemas: $PLANVALIDATOR_SCHEMAS if set, else the bundled one.
    Read at each call, so worker processes and the add-in server's workers see it too."""
    chosen = os.environ.get(ENV_SCHEMAS)
    if not chosen:
        return SCHEMA_DIR
    directory = Path(chosen).expanduser()
    if not directory.is_dir():
        raise SchemaError(f"The schema folder {chosen} (from --schemas or {ENV_SCHEMAS}) "
                          f"does not exist.")
    return directory.resolve()


def available_years(directory: Path | None = None) -> list[int]:
    directory = schema_dir() if directory is None else directory
    try:
        names = tuple(os.listdir(directory))
    except OSError:
        return []
    return list(_years(names))


@lru_cache(maxsize=16)
def _years(names: tuple[str, ...]) -> tuple[int, ...]:
    """The years of the fyYEAR.yaml files among a folder's file names (every plan read asks:
    a plain listing costs ~5 µs, a glob ~0.1 ms)."""
    return tuple(sorted(int(m.group(1)) for name in names
                        if (m := re.fullmatch(r"fy(\d{4})\.yaml", name))))


def load_schema(fiscal_year: int | None = None, path: Path | str | None = None) -> Schema:
    """The schema for a fiscal year (from schema_dir()) or from an explicit YAML file."""
    if path is None:
        directory = schema_dir()
        years = available_years(directory)
        where = "" if directory == SCHEMA_DIR else f" in {directory}"
        if not years:
            raise SchemaError(f"There is no schema (fyYEAR.yaml){where}.")
        if fiscal_year is None:
            fiscal_year = years[-1]
        if fiscal_year not in years:
            raise SchemaError(f"There is no schema for fiscal year {fiscal_year}{where} "
                              f"(schemas exist for {', '.join(map(str, years))}).")
        path = directory / f"fy{fiscal_year}.yaml"
    return _load(Path(path).resolve())


@lru_cache(maxsize=8)
def _load(path: Path) -> Schema:
    doc = _read_yaml(path)
    where = path.name
    _keys(doc, where, "the top level",
          required={"schema_id", "fiscal_year", "template_version", "catalog", "lists",
                    "roles", "agency", "services", "measures"},
          optional={"contact", "placeholders", "status", "descriptions"})
    year = doc["fiscal_year"]
    if not isinstance(year, int):
        raise SchemaError(f"{where}: fiscal_year must be a year such as 2028, not {year!r}.")
    catalog_path = path.parent / doc["catalog"]
    pillars, agencies = _load_catalog(catalog_path)
    lists = {name: tuple(str(v) for v in values) for name, values in doc["lists"].items()}
    for name in ("stages", "units", "directions", "statuses", "measure_types", "yes_no"):
        if name not in lists:
            raise SchemaError(f"{where}: lists must define '{name}'.")
    lists["pillars"] = pillars
    lists["agencies"] = tuple(agencies)
    status = doc.get("status") or {}
    _keys(status, where, "status", optional={"at_risk_within"})
    roles = _roles(doc["roles"], lists, where)
    descriptions = _descriptions(doc.get("descriptions") or {}, lists, where)
    tables = {
        "agency": _table(doc["agency"], "agency", "fields", year, lists, where),
        "services": _table(doc["services"], "services", "columns", year, lists, where),
        "measures": _table(doc["measures"], "measures", "columns", year, lists, where),
    }
    for table, keys in (("services", {"service_number", "service_name", "pillar"}),
                        ("measures", {"measure_id", "service_number", "measure_type", "unit",
                                      "direction", "target", "status", "status_explanation",
                                      "target_rationale", "midyear_actual", "yearend_actual"}),
                        ("agency", {"agency_code", "fiscal_year", "stage"})):
        missing = keys - set(tables[table].keys)
        if missing:
            raise SchemaError(f"{where}: {table} must define the key(s) {', '.join(sorted(missing))}.")
    return Schema(
        path=path, schema_id=str(doc["schema_id"]), fiscal_year=year,
        template_version=str(doc["template_version"]), contact=str(doc.get("contact", "")),
        placeholders=tuple(str(p) for p in doc.get("placeholders", ())),
        at_risk_within=float(status.get("at_risk_within", 0.10)), lists=lists, roles=roles,
        descriptions=descriptions, agencies=agencies, **tables)


def _roles(doc, lists: dict, where: str) -> Roles:
    """Every role names values of its list; a value renamed in the list alone is refused here,
    else the rule reading the role would silently stop firing."""
    _keys(doc, where, "roles", required=set(ROLE_KEYS) | set(PATTERN_ROLES))
    values: dict = {}
    for key, (list_name, entries) in ROLE_KEYS.items():
        allowed = lists[list_name]

        def member(value, name):
            if str(value) not in allowed:
                raise SchemaError(f"{where}: roles.{name} is {value!r}, which is not in "
                                  f"lists.{list_name} ({', '.join(allowed)}).")
            return str(value)
        if entries is None:
            values[key] = member(doc[key], key)
        elif entries == "many":
            if not isinstance(doc[key], list) or not doc[key]:
                raise SchemaError(f"{where}: roles.{key} must be a list of {list_name} values.")
            values[key] = tuple(member(v, key) for v in doc[key])
        else:
            _keys(doc[key], where, f"roles.{key}", required=set(entries))
            values |= {name: member(doc[key][name], f"{key}.{name}") for name in entries}
    if (values["plan"], values["midyear"], values["yearend"]) != lists["stages"]:
        raise SchemaError(f"{where}: roles.stage must name the stages in the order of "
                          f"lists.stages ({', '.join(lists['stages'])}).")
    for key in PATTERN_ROLES:
        try:
            values[key] = str(doc[key])
            groups = re.compile(values[key]).groupindex
        except re.error as e:
            raise SchemaError(f"{where}: roles.{key} is not a valid regular expression: {e}.") from None
        if key == "measure_id_parts" and not {"agency", "service"} <= set(groups):
            raise SchemaError(f"{where}: roles.{key} must have the groups (?P<agency>...) and "
                              f"(?P<service>...).")
    return Roles(**values)


def _descriptions(doc, lists: dict, where: str) -> dict[str, dict[str, str]]:
    _keys(doc, where, "descriptions", optional=set(lists))
    out = {}
    for name, texts in doc.items():
        _keys(texts, where, f"descriptions.{name}", optional=set(lists[name]))
        out[name] = {str(v): str(text) for v, text in texts.items()}
    return out


def _read_yaml(path: Path) -> dict:
    try:
        # libyaml's parser when PyYAML has it (7x faster on a big catalog), the same safe loading
        doc = yaml.load(path.read_text(encoding="utf-8"),
                        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise SchemaError(f"Schema file {path} does not exist.") from None
    except yaml.YAMLError as e:
        raise SchemaError(f"{path.name} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise SchemaError(f"{path.name} must hold a mapping of keys.")
    return doc


def _keys(mapping, where: str, what: str, required=frozenset(), optional=frozenset()):
    if not isinstance(mapping, dict):
        raise SchemaError(f"{where}: {what} must be a mapping of keys, not {mapping!r}.")
    allowed = set(required) | set(optional)
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise SchemaError(f"{where}: unknown key '{unknown[0]}' in {what} "
                          f"(allowed: {', '.join(sorted(allowed))}).")
    missing = sorted(set(required) - set(mapping))
    if missing:
        raise SchemaError(f"{where}: {what} is missing the key '{missing[0]}'.")


def _label(text: str, year: int) -> str:
    """Expand {Y}, {Y-1}, ... in a label to fiscal years."""
    return re.sub(r"\{Y([+-]\d+)?\}", lambda m: str(year + int(m.group(1) or 0)), text)


def _table(doc, name: str, items_key: str, year: int, lists: dict, where: str) -> Table:
    _keys(doc, where, name, required={"sheet", items_key})
    columns = []
    for i, col in enumerate(doc[items_key]):
        what = f"{name} {items_key[:-1]} {col.get('key', i + 1) if isinstance(col, dict) else i + 1}"
        _keys(col, where, what, required={"key", "label"},
              optional={"type", "required", "missing_code", "list", "checks", "width",
                        "waived_by_no_data"})
        ctype = col.get("type", "text")
        if ctype not in TYPES:
            raise SchemaError(f"{where}: unknown type '{ctype}' in {what} (types: {', '.join(TYPES)}).")
        if col.get("list") is not None and col["list"] not in lists:
            raise SchemaError(f"{where}: unknown list '{col['list']}' in {what} "
                              f"(lists: {', '.join(sorted(lists))}).")
        checks = tuple(col.get("checks", ()))
        for check in checks:
            if check not in COLUMN_CHECKS:
                raise SchemaError(f"{where}: unknown check '{check}' in {what} "
                                  f"(checks: {', '.join(COLUMN_CHECKS)}).")
        required = col.get("required", False)
        if not isinstance(required, bool) and required not in lists["stages"]:
            raise SchemaError(f"{where}: required in {what} must be true, false or a stage "
                              f"({', '.join(lists['stages'])}), not {required!r}.")
        missing_code = col.get("missing_code", "required-missing")
        if missing_code not in MISSING_CODES:
            raise SchemaError(f"{where}: unknown finding code '{missing_code}' in {what} "
                              f"(codes: {', '.join(MISSING_CODES)}).")
        columns.append(Column(key=str(col["key"]), label=_label(str(col["label"]), year),
                              type=ctype, required=required, missing_code=missing_code,
                              list=col.get("list"), checks=checks, width=col.get("width"),
                              waived_by_no_data=bool(col.get("waived_by_no_data", False))))
    keys = [c.key for c in columns]
    if len(set(keys)) != len(keys):
        raise SchemaError(f"{where}: {name} uses a key twice.")
    return Table(name=name, sheet=str(doc["sheet"]), columns=tuple(columns))


def _load_catalog(path: Path):
    doc = _read_yaml(path)
    where = path.name
    _keys(doc, where, "the top level", required={"pillars", "agencies"})
    pillars = tuple(str(p) for p in doc["pillars"])
    agencies = {}
    for code, entry in doc["agencies"].items():
        _keys(entry, where, f"agency {code}", required={"name", "services"})
        services = {}
        for number, svc in entry["services"].items():
            _keys(svc, where, f"service {code} {number}", required={"name", "pillar"})
            if svc["pillar"] not in pillars:
                raise SchemaError(f"{where}: service {code} {number} has unknown pillar "
                                  f"'{svc['pillar']}'.")
            services[int(number)] = Service(int(number), str(svc["name"]), str(svc["pillar"]))
        agencies[str(code)] = Agency(str(code), str(entry["name"]), services)
    return pillars, agencies
