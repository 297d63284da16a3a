"""Plain messages at the edges (issue 9, item 7): where outputs go, standard input and output,
options that exclude each other, --quiet, NO_COLOR, the progress bar's ETA, shell completion."""

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import click._termui_impl
from click.testing import CliRunner

from planvalidator.cli import main
from planvalidator.cli.options import file_progress
from plans import measure, plan_file, sheets

README = Path(__file__).resolve().parent.parent / "README.md"
SCRIPT = Path(sys.executable).with_name("planvalidator")


def run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="planvalidator", **kw)


def plain_refusal(result, message):
    """Exit 2 with exactly `message`: one sentence, no traceback, no errno."""
    assert (result.exit_code, result.output) == (2, f"Error: {message}\n")
    assert "Traceback" not in result.output and "Errno" not in result.output


def bad_plan(folder):
    return plan_file(folder / "bcfd.xlsx", sheets([measure(target=-5)]))


def test_annotate_into_a_missing_folder_creates_it(tmp_path):
    out = tmp_path / "checked" / "2028" / "bcfd.annotated.xlsx"
    result = run("validate", bad_plan(tmp_path), "--annotate", out)
    assert result.exit_code == 1, result.output
    assert out.is_file()


def test_merge_into_an_unwritable_place_is_one_sentence(tmp_path):
    plan = bad_plan(tmp_path)
    plain_refusal(run("merge", plan, "-o", "/sys/citywide.xlsx"),
                  "Cannot write /sys/citywide.xlsx: Permission denied.")
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    plain_refusal(run("merge", plan, "-o", tmp_path / "notes.txt" / "citywide.xlsx"),
                  f"Cannot create the folder {tmp_path / 'notes.txt'}: a file has that name.")


def test_annotate_into_an_unwritable_place_is_one_sentence(tmp_path):
    plain_refusal(run("validate", bad_plan(tmp_path), "--annotate", "/sys/checked.xlsx"),
                  "Cannot write /sys/checked.xlsx: Permission denied.")


def test_standard_output_and_input_are_refused_clearly(tmp_path, monkeypatch):
    plan = bad_plan(tmp_path)
    monkeypatch.chdir(tmp_path)
    plain_refusal(run("merge", plan, "-o", "-"),
                  "merge writes a workbook, not text: give -o a file name such as "
                  "citywide.xlsx (standard output, -, is not supported).")
    plain_refusal(run("sync", "-o", "-", plan, plan),
                  "sync writes a workbook, not text: give -o a file name such as "
                  "citywide.xlsx (standard output, -, is not supported).")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bcfd.xlsx"]
    plain_refusal(run("validate", "-", input=plan.read_bytes()),
                  "validate reads workbooks from files, not from standard input (-): save the "
                  "workbook and give its file name.")


def test_all_with_agency_is_refused(tmp_path):
    plain_refusal(run("template", "build", "-y", "2028", "--all", "--agency", "BCFD",
                      "-o", tmp_path / "out"),
                  "--all builds a template for every agency of the catalog and --agency for the "
                  "ones named: give one of them, not both.")
    assert not (tmp_path / "out").exists()


def test_quiet_prints_nothing_and_keeps_the_exit_code(tmp_path):
    plan = bad_plan(tmp_path)
    checked = run("validate", "-q", plan)
    assert (checked.exit_code, checked.output) == (1, "")
    merged = run("merge", "--quiet", plan, "-o", tmp_path / "c.xlsx")
    assert (merged.exit_code, merged.output) == (1, "")
    assert (tmp_path / "c.xlsx").is_file()
    built = run("template", "build", "-q", "-y", "2028", "--agency", "BCFD", "-o", tmp_path / "t")
    assert (built.exit_code, built.output) == (0, "")
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["plan-fy2028-BCFD.xlsx"]


def on_a_terminal(args, env):
    """Run planvalidator with its standard output on a pseudo-terminal; what it printed."""
    leader, follower = pty.openpty()
    done = subprocess.run([str(SCRIPT), *map(str, args)], stdout=follower,
                          stderr=subprocess.DEVNULL, env=env, timeout=300)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:   # EIO: the terminal is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return done.returncode, b"".join(chunks).decode()


def test_no_color_is_honoured_on_a_terminal(tmp_path):
    plan = bad_plan(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    code, coloured = on_a_terminal(["validate", plan], env)
    assert code == 1 and "\x1b[" in coloured and "BCFD-609-01" in coloured
    code, plain = on_a_terminal(["validate", plan], {**env, "NO_COLOR": "1"})
    assert code == 1 and "\x1b[" not in plain and "BCFD-609-01" in plain


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    """Ten seconds pass each time anyone looks (the first file takes as long as the last)."""
    now = 1_000_000.0

    def time(self):
        self.now += 10
        return self.now


def test_progress_bar_shows_no_eta_before_three_files(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setattr(click._termui_impl, "time", Clock())
    assert list(file_progress(iter(range(6)), 6)) == list(range(6))
    lines = [line.strip() for line in re.split(r"[\r\n]", sys.stderr.getvalue()) if line.strip()]
    by_percent = {re.search(r"(\d+)%", line).group(1): line for line in lines}
    assert not re.search(r"\d\d:\d\d:\d\d", by_percent["16"])
    assert not re.search(r"\d\d:\d\d:\d\d", by_percent["33"])
    assert re.search(r"\d\d:\d\d:\d\d$", by_percent["50"])


def readme_section(title):
    text = README.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_shell_completion_as_the_readme_says():
    section = readme_section("Shell completion")
    shells = re.findall(r"_PLANVALIDATOR_COMPLETE=(\w+) planvalidator", section)
    assert shells == ["bash_source", "zsh_source", "fish_source"]
    for shell in shells:
        done = subprocess.run([str(SCRIPT)], env={**os.environ, "_PLANVALIDATOR_COMPLETE": shell},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"_PLANVALIDATOR_COMPLETE={shell.replace('source', 'complete')}" in done.stdout
