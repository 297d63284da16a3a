"""Merge's unit of work over chunks of files, so that no single file can take a merge down.

A chunk whose work raises (MemoryError on a hostile file under a memory limit, or anything
else) or whose worker process dies (killed by the system, a crash in native code: the pool is
then broken) is run again one file at a time, each in a process of its own when jobs > 1. A
file that fails alone is the one to blame: only it is left out, named with a plain reason by
`failed`. A file run alone has a bare process and a pipe, no pool: a pool needs threads in the
merge, which may not start when memory is short, and a pool whose thread failed waits forever.
Workers die with the merge on Linux (PR_SET_PDEATHSIG), so a merge killed with SIGKILL leaves
no worker processes behind. With jobs = 1 the items the caller picks as dangerous (files large
enough that reading them under a memory limit may crash native code) are run in a process of
their own all the same, so that a crash is named and left out as with jobs > 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..errors import PlanValidatorError

PR_SET_PDEATHSIG = 1   # linux/prctl.h
AHEAD = 2   # chunks in flight per worker: one running, one queued so that none waits

CRASHED = ("The process checking this file stopped abruptly (stopped by the system or a "
           "crash), so it was left out of the merge.")
NO_MEMORY = ("Checking this file needed more memory than the merge may use, so it was left "
             "out of the merge.")
FAILED = "Checking this file failed unexpectedly, so it was left out of the merge."


def run_chunks(work: Callable[[list], list], chunks: list[list], jobs: int,
               failed: Callable[[object, str], object],
               dangerous: Callable[[object], bool] = lambda item: False) -> Iterator[list]:
    """work(chunk) for each chunk, in order: in this process (jobs = 1) or in `jobs` worker
    processes. An item that fails alone gives failed(item, reason) in place of its result.
    With jobs = 1, an item for which dangerous(item) is true runs in a process of its own."""
    if jobs <= 1:
        for chunk in chunks:
            apart = [dangerous(item) for item in chunk]
            here = iter(_here(work, [i for i, a in zip(chunk, apart) if not a], failed))
            yield [_alone(work, item, failed) if a else next(here)
                   for item, a in zip(chunk, apart)]
        return
    with _pool(jobs) as pool:
        # Only AHEAD chunks per worker are submitted ahead of the one being taken: the pool
        # holds every submitted chunk's result until it is taken, so submitting them all at
        # once lets memory grow with the number of files.
        todo, ahead = iter(chunks), deque()
        for chunk in itertools.islice(todo, AHEAD * jobs):
            ahead.append((chunk, _submit(pool, work, chunk)))
        while ahead:
            chunk, future = ahead.popleft()
            following = next(todo, None)
            if following is not None:
                ahead.append((following, _submit(pool, work, following)))
            try:
                result = future.result()
            except PlanValidatorError:
                raise
            except BrokenProcessPool:   # every chunk not done yet gets here, the culprit's too
                result = None
            except Exception as e:
                result = _blamed(chunk, e, failed)
            yield result if result is not None else [_alone(work, item, failed)
                                                     for item in chunk]


def _here(work, chunk: list, failed) -> list:
    """work(chunk) in this process; if it fails, each item again on its own."""
    if not chunk:
        return []
    # A failed chunk is re-run after its `except` block: the traceback holds the frames, and
    # with them the data, of the work that ran out of memory.
    try:
        result = work(chunk)
    except PlanValidatorError:   # about the whole run (a schema folder): not a file's
        raise
    except Exception as e:   # MemoryError among them: find the file that causes it
        result = _blamed(chunk, e, failed)
    return result if result is not None else [_alone_here(work, item, failed) for item in chunk]


def _submit(pool: ProcessPoolExecutor, work, chunk) -> Future:
    """pool.submit, or a failed future once the pool is broken (a worker died)."""
    try:
        return pool.submit(work, chunk)
    except BrokenProcessPool as e:
        future = Future()
        future.set_exception(e)
        return future


def _alone_here(work, item, failed):
    try:
        return work([item])[0]
    except Exception as e:
        reason = _reason(e)
    return failed(item, reason)


def _blamed(chunk: list, error: Exception, failed) -> list | None:
    """A chunk of one file that failed on its own (not a broken pool) needs no second run."""
    return [failed(chunk[0], _reason(error))] if len(chunk) == 1 else None


def _alone(work, item, failed):
    """work([item]) in a process of its own: its crash or lack of memory costs only itself."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_run_alone, args=(work, item, send, os.getpid()),
                                      daemon=True)
    try:
        process.start()
    except (OSError, MemoryError):   # no process to be had: the file is checked here
        receive.close()
        send.close()
        return _alone_here(work, item, failed)
    send.close()
    try:
        ok, outcome = receive.recv()
    except (EOFError, OSError):   # the process died before it answered
        ok, outcome = False, CRASHED
    except Exception as e:   # its answer could not be unpickled here (MemoryError)
        ok, outcome = False, _reason(e)
    finally:
        receive.close()
        process.join()
    return outcome if ok else failed(item, outcome)


def _run_alone(work, item, send, parent: int) -> None:
    """In the process of _alone: (True, result) or (False, reason) down the pipe."""
    _start_worker(parent)
    try:
        answer = (True, work([item])[0])
    except Exception as e:
        answer = (False, _reason(e))
    try:
        send.send(answer)
    except Exception as e:   # the result could not be pickled or sent (MemoryError)
        with contextlib.suppress(Exception):   # else the merge sees the pipe close: CRASHED
            send.send((False, _reason(e)))


def _reason(error: Exception) -> str:
    return NO_MEMORY if isinstance(error, MemoryError) else FAILED


def _pool(jobs: int) -> ProcessPoolExecutor:
    # Workers are started by the thread that submits, which waits for them in run_chunks:
    # PR_SET_PDEATHSIG fires when that thread ends, so never while the merge runs.
    return ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(os.getpid(),))


def _start_worker(parent: int) -> None:
    """In a worker: die with the merge, and print nothing. Its answer is its result; what
    native code prints as it dies (a Rust panic's backtrace when memory runs out) would
    otherwise land amid the merge's own plain sentences, which name the file instead."""
    _die_with_parent(parent)
    with contextlib.suppress(OSError):
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the merge process dies, however it dies (Linux)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):   # not Linux: workers end when the pool shuts down
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:   # the merge died before prctl took effect
        os._exit(1)
