"""The batch commands end their process without the interpreter's teardown (cli.run: os._exit
once every output is written): the outputs and the report are complete all the same, the same
bytes as a run that ends the usual way, and no temporary file stays behind."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from planvalidator.cli import main
from plans import EXAMPLES

# The real program in a fresh interpreter; a teardown would run the atexit handler.
PROGRAM = """
import atexit, sys
atexit.register(lambda: print("interpreter teardown", file=sys.stderr, flush=True))
from planvalidator.cli import run
sys.argv = ["planvalidator", *sys.argv[1:]]
run()
"""


def program(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=cwd, capture_output=True,
                          text=True)


def usual(cwd, monkeypatch, *args: str):
    """The same command through click's runner, in this process: it ends the usual way."""
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, list(args))


def files(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_merge_ends_at_once_with_every_output_complete(tmp_path, monkeypatch):
    fast, slow = tmp_path / "fast", tmp_path / "usual"
    fast.mkdir(), slow.mkdir()
    args = ("merge", str(EXAMPLES), "-o", "out/citywide.xlsx", "--datapackage", "out/open-data")
    ended = program(fast, *args)
    assert "interpreter teardown" not in ended.stderr   # os._exit: no teardown
    reference = usual(slow, monkeypatch, *args)
    assert ended.returncode == reference.exit_code == 1   # the examples have errors
    assert ended.stdout == reference.output and "Wrote out/citywide.xlsx" in ended.stdout
    written = files(fast)
    assert written == files(slow)   # the workbook and open data, byte for byte; no .tmp file
    assert set(written) >= {"out/citywide.xlsx", "out/open-data/datapackage.json"}


def test_validate_with_annotate_ends_at_once_with_the_annotated_copy(tmp_path, monkeypatch):
    fast, slow = tmp_path / "fast", tmp_path / "usual"
    fast.mkdir(), slow.mkdir()
    args = ("validate", str(EXAMPLES / "bpd-plan-fy2028-not-in-list.xlsx"), "--annotate",
            "checked.xlsx", "--format", "json")
    ended = program(fast, *args)
    assert "interpreter teardown" not in ended.stderr
    reference = usual(slow, monkeypatch, *args)
    assert ended.returncode == reference.exit_code == 1
    assert ended.stdout == reference.output
    assert files(fast) == files(slow) and (fast / "checked.xlsx").exists()


def test_a_bad_input_still_says_why_and_other_commands_keep_the_teardown(tmp_path):
    ended = program(tmp_path, "merge", str(tmp_path / "nothing-here"), "-o", "out.xlsx")
    assert ended.returncode == 2 and "nothing-here" in ended.stderr
    assert "interpreter teardown" not in ended.stderr and not (tmp_path / "out.xlsx").exists()
    listed = program(tmp_path, "codes")
    assert listed.returncode == 0 and "interpreter teardown" in listed.stderr
