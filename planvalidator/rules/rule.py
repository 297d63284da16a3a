"""A rule is one record: its finding code, the registered pandera check that finds it, the
frame the check runs on, where its finding lands and the facts its message is worded from.

The records live by family in cell.py, targets.py, plan.py and reporting.py; checks.py
registers their checks with pandera, validate.py compiles and runs them. The catalogue entry
of each code (title, explanation, fix, message templates) is in catalogue.py, which every
layer may read: a rule names its entry by code and supplies the templates' fields.

Checks work on numpy arrays: pandas operations cost ~20 µs each, numpy's ~2 µs, and a check
runs a dozen of them. Each returns True where the data passes.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

CELLS, MEASURES, SERVICES = "cells", "measures", "services"   # the frames (frames.py)


@dataclass
class Context:
    """The facts of one failing cell that every rule's message may name."""
    location: str          # "Measures!M7"
    label: str             # column label
    value: object          # the value as found
    measure_id: str = ""
    extra: dict = field(default_factory=dict)   # the rule's own facts (Rule.facts)

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

    def fields(self) -> dict:
        """The fields of the rule's message template (catalogue.CATALOGUE)."""
        return {"location": self.location, "label": self.label, "value": self.value,
                "shown": self.shown, "subject": self.subject, "measure_id": self.measure_id,
                **self.extra}


def _no_params(schema) -> dict:
    return {}


def _no_facts(plan, data, column, i, row) -> dict:
    return {}


def _always(schema) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    code: str                           # its catalogue entry, which words the message
    frame: str                          # CELLS, MEASURES or SERVICES
    check: Callable                     # registered with pandera under its own name
    lands_on: str | None = None         # row frames: the column the finding points at
    params: Callable = _no_params       # schema → the check's keyword arguments
    facts: Callable = _no_facts         # (plan, table data, column, i, row as a dict) →
                                        # Context.extra: the template's own fields, `variant`
    applies: Callable = _always         # schema → whether the schema uses the rule at all


# --- building blocks of checks --------------------------------------------------------------

_checking: ContextVar = ContextVar("checking", default=(None, {}))


@contextmanager
def checking(frame):
    """While the checks run on `frame` (a frames.Frame), col() gives its columns as the numpy
    arrays the frame was built from, instead of taking them back out of pandas (~15 µs each
    time; the checks of one frame ask for some columns many times)."""
    token = _checking.set((frame.df, frame.columns))
    try:
        yield
    finally:
        _checking.reset(token)


def col(df, name) -> np.ndarray:
    checked, columns = _checking.get()
    return columns[name] if checked is df else df[name].to_numpy()


def ok(df, bad) -> pd.Series | bool:
    """Where the data passes: a boolean Series, or True (pandera's scalar result) when it
    passes everywhere, which spares building a Series (~10 µs) for most checks of a plan."""
    return True if not bad.any() else pd.Series(~bad, index=df.index)


def isin(values, allowed) -> np.ndarray:
    allowed = set(allowed)
    return np.fromiter((v in allowed for v in values), bool, len(values))


def where(mask: np.ndarray, values: np.ndarray, test) -> np.ndarray:
    """test(value) for the rows in mask (False elsewhere): Python work on those rows only."""
    out = np.zeros(len(mask), bool)
    rows = np.flatnonzero(mask)
    out[rows] = np.fromiter(map(test, values[rows]), bool, len(rows))
    return out


def equals(mask: np.ndarray, values: np.ndarray, value) -> np.ndarray:
    """mask & (values == value), comparing the rows in mask only: text columns are object
    arrays, whose comparisons cost a Python call a row."""
    out = np.zeros(len(mask), bool)
    rows = np.flatnonzero(mask)
    out[rows] = values[rows] == value
    return out


def filled(df, *, code):
    """Cells required at the plan's stage are not empty (reported as `code`); shared by the
    families, each of which owns the codes it reports."""
    return ok(df, equals(col(df, "required") & col(df, "blank"), col(df, "missing_code"), code))


def empty_rule(code: str, facts: Callable = _no_facts) -> Rule:
    """The rule for required cells whose column names `code` as its missing_code."""
    return Rule(code, CELLS, filled, params=lambda schema: {"code": code}, facts=facts,
                applies=lambda schema: any(c.required and c.missing_code == code
                                           for t in schema.tables for c in t.columns))
