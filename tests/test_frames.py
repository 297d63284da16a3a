"""The check frames built from numpy columns (issue 13) are the frames pandas builds from plain
lists with the same dtypes: object text keeping None (never pandas 3's inferred str dtype with
NaN), int64 positions, bool flags, float numbers. Over every bundled example and the test
plans, one plan at a time and all at once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from planvalidator.read.plan import read_workbook
from planvalidator.rules.frames import cells_frame, measures_frame, services_frame
from planvalidator.rules.status import computed_status
from planvalidator.rules.validate import validate_plans
from plans import EXAMPLES, fy2027_plans, measure, plan_file, sheets

BUILDERS = (cells_frame, measures_frame, services_frame)


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("frames")
    files = sorted(EXAMPLES.glob("*.xlsx")) + sorted((EXAMPLES / "fy2027").glob("*.xlsx"))
    files += [plan_file(tmp / "clean.xlsx"),
              plan_file(tmp / "gaps.xlsx", sheets(measures=[
                  measure(), measure(mid="BCFD-609-02", Target=None), measure(mid="bad id")]))]
    files += sorted(fy2027_plans(tmp / "fy2027").glob("*.xlsx"))
    return [read_workbook(f) for f in files]


def from_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """The same columns the plain pandas way: Python lists, each with its dtype spelled out."""
    return pd.DataFrame({k: pd.Series(frame[k].tolist(), dtype=frame[k].dtype) for k in frame})


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_frames_equal_the_plain_pandas_frames(plans, build):
    for group in [[p] for p in plans] + [plans, []]:
        built = build(group)
        frame = built.df
        assert_frame_equal(frame, from_lists(frame))
        assert isinstance(frame.index, pd.RangeIndex)
        for k in frame:
            assert frame[k].dtype in (object, bool, np.int64, np.float64), (build.__name__, k)
            # the arrays the checks read are the frame's columns
            assert built.columns[k].dtype == frame[k].dtype, (build.__name__, k)
            np.testing.assert_array_equal(built.columns[k], frame[k].to_numpy())


def test_text_keeps_none_and_positions_restart_per_table(plans):
    cells = cells_frame(plans).df
    assert cells["text"].dtype == object and cells["text"].isna().any()
    assert set(cells["text"].dropna().map(type)) == {str}
    assert len(cells) == sum(len(d.rows) for p in plans for d in (p.agency, p.services, p.measures)
                             for c in d.table.columns if c.key in d.values)
    first = cells.groupby(["plan", "table", "key"], sort=False)["i"].agg(["min", "max", "size"])
    assert (first["min"] == 0).all() and (first["max"] == first["size"] - 1).all()


def test_the_computed_status_reuses_the_validation_frame(plans):
    """Validated together, each plan keeps its own rows of the group's measures frame, and the
    consolidated plan's Computed Status read from them equals one from a frame built anew."""
    fresh = computed_status([dataclasses.replace(p) for p in plans])   # copies start without
    validate_plans(plans)
    for plan in plans:
        assert len(plan.measure_columns["i"]) == len(plan.measures.rows)
        assert list(plan.measure_columns["i"]) == list(range(len(plan.measures.rows)))
    assert computed_status(plans) == fresh
    assert {s for statuses in fresh for s in statuses} >= {"On Track", "Off Track", ""}
