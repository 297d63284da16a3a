"""A merge survives any single file (issue 10, item 2): whatever one input does to the process
checking it — runs out of memory under a real limit, or the process is killed — the merge names
it, leaves it out and writes the consolidated plan of the rest; killed itself, a merge leaves
no worker processes behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostile_plans import BUILDERS
from test_hostile_limits import AT_ROW_CAP, EXAMPLES, GOOD

# Enough for a merge of the bundled plans (~300 MiB), not for reading a plan at the reader's
# row cap as well: a real limit, as an office's server or container would set it.
TIGHT = 330 * 2**20   # big.xlsx needs more; at 350 MiB a native allocation in-process can crash instead


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    BUILDERS["findings-on-every-cell"](folder / "big.xlsx")
    for good in GOOD:
        shutil.copy(EXAMPLES / good, folder)
    return folder


def merge(folder: Path, out: Path, *options: str, memory: int | None = None) -> subprocess.Popen:
    limit = ["prlimit", f"--as={memory}", "--"] if memory else []
    return subprocess.Popen([*limit, sys.executable, "-m", "planvalidator", "merge", str(folder),
                             "-o", str(out), "--format", "json", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=out.parent)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_that_runs_out_of_memory_is_named_and_the_rest_merged(submissions, tmp_path, jobs):
    out = tmp_path / "citywide.xlsx"
    proc = merge(submissions, out, "--jobs", jobs, memory=TIGHT)
    stdout, stderr = proc.communicate(timeout=600)
    assert "Traceback" not in stderr, stderr
    summary = json.loads(stdout)
    assert [(u["source"], u["reason"]) for u in summary["unreadable"]] == [
        ("big.xlsx", "Checking this file needed more memory than the merge may use, so it was "
                     "left out of the merge.")]
    assert sorted(a["source"] for a in summary["agencies"]) == sorted(GOOD)
    assert out.is_file() and proc.returncode == 2   # README: 2 if an input could not be read


# Limits at which reading each plan at the row cap in the merge's own process died in native
# code (calamine: an abort on a failed allocation, or SIGSEGV), taking the merge down with it.
CRASHING = (300 * 2**20, 350 * 2**20)


@pytest.mark.parametrize("memory", CRASHING, ids=lambda m: f"{m // 2**20}MiB")
@pytest.mark.parametrize("name", AT_ROW_CAP)
def test_one_job_survives_a_crash_reading_a_large_file(name, memory, tmp_path):
    """--jobs 1 reads a large file in a process of its own: whatever it dies of (MemoryError,
    or a crash in native code) is named, and the merge of the rest is written."""
    inputs = tmp_path / "submissions"
    inputs.mkdir()
    BUILDERS[name](inputs / f"{name}.xlsx")
    for good in GOOD:
        shutil.copy(EXAMPLES / good, inputs)
    out = tmp_path / "citywide.xlsx"
    proc = merge(inputs, out, "--jobs", "1", memory=memory)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode in (1, 2), f"exit {proc.returncode} (a signal?)\n{stderr[-2000:]}"
    assert "Traceback" not in stderr and stderr.count("\n") <= 1, stderr[-2000:]
    if memory > 300 * 2**20 and not stdout:
        # With 350 MiB the file may be read after all; then the consolidated plan holding its
        # 20,000 rows does not fit: said plainly, and nothing written rather than half of it.
        assert stderr.startswith("Error: The command needed more memory") and not out.exists()
        assert proc.returncode == 2
        return
    summary = json.loads(stdout)
    merged = {a["source"] for a in summary["agencies"]}
    unreadable = {u["source"] for u in summary["unreadable"]}
    assert set(GOOD) <= merged and out.is_file()
    assert f"{name}.xlsx" in merged | unreadable
    assert proc.returncode == (2 if unreadable else 1)   # README: 2 if an input could not be read


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers die with it on Linux")
def test_a_merge_killed_with_sigkill_leaves_no_workers(submissions, tmp_path):
    proc = merge(submissions, tmp_path / "citywide.xlsx", "--jobs", "2")
    deadline = time.monotonic() + 120
    while len(workers := children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) >= 2, "the merge started no workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    deadline = time.monotonic() + 10   # generous: PR_SET_PDEATHSIG kills them at once
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [w for w in workers if alive(w)]
    for w in left:   # don't leave them to the next test
        os.kill(w, signal.SIGKILL)
    assert left == []
