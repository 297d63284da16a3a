"""What a command process loads and how its garbage collector is set (issue 13): `validate`
without --annotate never imports openpyxl (only writing needs it), and the batch commands run
with the imported heap frozen and raised collector thresholds; other commands keep Python's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from plans import EXAMPLES

# Runs the real command in a fresh interpreter, then reports what it left behind.
PROBE = """
import gc, json, sys
from planvalidator.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "openpyxl": any(m.split(".")[0] == "openpyxl" for m in sys.modules),
                  "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def probe(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_validate_without_annotate_never_imports_openpyxl():
    found = probe("validate", str(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"),
                  str(EXAMPLES / "bpd-plan-fy2028-not-in-list.xlsx"), "--format", "json")
    assert found["code"] == 1          # the not-in-list plan has errors: it was validated
    assert not found["openpyxl"]


def test_validate_with_annotate_still_annotates(tmp_path):
    out = tmp_path / "checked.xlsx"
    found = probe("validate", str(EXAMPLES / "bpd-plan-fy2028-not-in-list.xlsx"), "--annotate",
                  str(out), "--quiet")
    assert found["code"] == 1 and found["openpyxl"] and out.exists()


@pytest.mark.parametrize("args", [
    ("validate", "EXAMPLES/bcfd-plan-fy2028-clean.xlsx", "--quiet"),
    ("merge", "EXAMPLES/bcfd-plan-fy2028-clean.xlsx", "-o", "OUT/citywide.xlsx", "--quiet")])
def test_batch_commands_freeze_the_imported_heap(args, tmp_path):
    found = probe(*(a.replace("EXAMPLES", str(EXAMPLES)).replace("OUT", str(tmp_path))
                    for a in args))
    assert found["code"] == 0
    assert found["threshold"][0] >= 10_000 and found["frozen"] > 10_000


def test_other_commands_keep_the_collector_as_python_sets_it():
    found = probe("codes")
    assert found["code"] == 0 and tuple(found["threshold"]) == (700, 10, 10)
    assert found["frozen"] == 0


# Counts the collections that run from the command's start until the imported heap is frozen.
COUNTING = """
import gc, json, sys
early = []
gc.callbacks.append(lambda phase, info: phase == "stop" and not gc.get_freeze_count()
                    and early.append(info["generation"]))
from planvalidator.cli import main
early.clear()
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "early": early, "frozen": gc.get_freeze_count(),
                  "enabled": gc.isenabled()}))
"""


def test_merge_imports_without_collecting_and_freezes_pandera_too(tmp_path):
    """merge imports with the collector off (importing openpyxl and pandas used to run two
    collections over the growing heap) and imports pandera before the freeze, not while
    reading the first file; afterwards it collects again."""
    out = subprocess.run([sys.executable, "-c", COUNTING, "merge", str(EXAMPLES), "-o",
                          str(tmp_path / "citywide.xlsx"), "--quiet"], capture_output=True,
                         text=True, check=True).stdout
    found = json.loads(out.splitlines()[-1])
    heavy = subprocess.run([sys.executable, "-c", "import gc, pandas, pandera.pandas; "
                            "print(len(gc.get_objects()))"], capture_output=True, text=True,
                           check=True).stdout
    assert found["code"] == 1   # the examples have errors: they were merged
    assert found["early"] == []
    assert found["frozen"] > int(heavy) and found["enabled"]
