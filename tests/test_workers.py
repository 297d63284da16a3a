"""merge's unit of work (citywide/workers.py) with faults injected into real worker processes:
a worker killed outright, and a file run alone by a merge whose own memory is nearly spent (a
pool's threads could not start there, and the merge waited forever)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from planvalidator.citywide.workers import CRASHED, NO_MEMORY, run_chunks


def work(chunk: list[str]) -> list[str]:
    """A worker's job: "kill" kills its process, "hog" asks for more memory than there is."""
    for item in chunk:
        if item == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if item == "hog":
            bytearray(2**40)
    return [f"read {item}" for item in chunk]


def failed(item: str, reason: str) -> str:
    return f"{item}: {reason}"


def test_a_killed_worker_costs_only_its_own_file():
    chunks = [["a", "kill"], ["b"], ["c", "d"]]
    results = [r for chunk in run_chunks(work, chunks, 2, failed) for r in chunk]
    assert results == ["read a", f"kill: {CRASHED}", "read b", "read c", "read d"]


def test_a_file_run_alone_when_memory_is_short_is_named_not_waited_for(tmp_path):
    """Once the pool runs, the merge holds all but ~12 MiB of its address space (as after
    reading many plans), too little for a new thread's stack and malloc arena: the chunk
    [b, hog] fails, and each of its files is run again alone."""
    script = f"""
import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_workers import work, failed
from planvalidator.citywide.workers import run_chunks
import resource
limit = resource.getrlimit(resource.RLIMIT_AS)[0]
results = run_chunks(work, [["a"], ["b", "hog"]], 2, failed)
first = next(results)
used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
ballast = bytearray(limit - used - 12 * 2**20)
print(first + next(results))
"""
    proc = subprocess.run(["prlimit", f"--as={400 * 2**20}", "--", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == repr(["read a", "read b", f"hog: {NO_MEMORY}"])
