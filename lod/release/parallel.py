"""Independent pieces of work run side by side in forked processes, one per core.

A build's last stages (validating, writing the dumps, counting) only read the release held in
memory, so they can share the machine's cores. Forked processes inherit what the
parent holds (the store in memory, the records, the compiled shapes) without copying it; the
caller must hold no open RocksDB store when it calls `run_parallel`, as RocksDB's threads do not
survive a fork.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1

_tasks: Sequence[Callable[[Any], Any]] = ()
_resource: Any = None


def run_parallel(groups: Mapping[str, Sequence[Callable[[Any], Any]]], resource: Any, *,
                 meanwhile: Callable[[], object] | None = None, processes: int | None = None,
                 ) -> dict[str, list[Any]]:
    """Each group's results, in the order of its tasks; every task is called with ``resource``,
    which the processes inherit. Tasks start in the order given, so put the long ones first.
    ``meanwhile`` runs in this process once the others are forked: the place for RocksDB, which a
    forked process cannot use once its parent has. An exception in a task is raised here, after
    the others were stopped."""
    results = iter(_run([task for tasks in groups.values() for task in tasks], resource,
                        meanwhile=meanwhile, processes=processes))
    return {name: [next(results) for _ in tasks] for name, tasks in groups.items()}


def _run(tasks: Sequence[Callable[[Any], T]], resource: Any, *, meanwhile: Callable[[], object] | None,
         processes: int | None) -> list[T]:
    global _tasks, _resource
    count = min(len(tasks), processes or len(os.sched_getaffinity(0)))
    if count < 1:
        return []
    _tasks, _resource = tasks, resource
    # The children's garbage collector must leave the parent's objects alone: visiting them would
    # copy every page they are on, and each child would come to hold a copy of the parent.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(count, initializer=_start) as pool:
            results = pool.imap(_call, range(len(tasks)), chunksize=1)
            if meanwhile is not None:
                meanwhile()
            return list(results)
    finally:
        gc.unfreeze()
        _tasks, _resource = (), None


def _start() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool


def _call(index: int) -> Any:
    return _tasks[index](_resource)


def _die_with_parent() -> None:
    """A build killed outright must not leave workers writing into its half-built directory."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own clean-up has to do
        pass
