"""A merge with workers keeps only a few chunks in flight (issue 13, item 4): the pool holds
each submitted chunk's result until the merge takes it, so submitting every chunk at once lets
memory grow with the number of files. Each chunk here leaves a file when a worker runs it."""

from __future__ import annotations

from pathlib import Path

from planvalidator.citywide.workers import AHEAD, run_chunks


def _mark(chunk: list[Path]) -> list[str]:
    """In a worker: record that this chunk ran."""
    for path in chunk:
        path.touch()
    return [path.name for path in chunk]


def test_workers_run_only_the_chunks_submitted_ahead_of_the_one_taken(tmp_path):
    chunks = [[tmp_path / f"chunk-{i:02}"] for i in range(40)]
    results = run_chunks(_mark, chunks, jobs=2, failed=lambda item, reason: None)
    assert next(results) == ["chunk-00"]
    results.close()   # the merge stops taking: the pool finishes what was submitted, and ends
    ran = sorted(p.name for p in tmp_path.iterdir())
    assert ran[0] == "chunk-00"
    # the chunk taken, AHEAD per worker behind it, and the one submitted as it was taken
    assert len(ran) <= AHEAD * 2 + 1, f"{len(ran)} of 40 chunks ran"
