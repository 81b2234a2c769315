"""The warehouse's locks: flock on files under state/, released if the holder is
killed. The pipeline holds them around stages (jobs/pipeline.py), the training job
while it reads conformed tables, and `fraudctl prune` (fraud/retention.py) while it
deletes old nights."""

from __future__ import annotations

import contextlib
import fcntl
import os

from fraud.layout import Layout
from fraud.storage import ensure_dir


@contextlib.contextmanager
def _warehouse_lock(layout: Layout, name: str, operation: int):
    """flock `operation` on state/`name` for the duration (released if the holder is
    killed)."""
    lock_path = ensure_dir(layout.root / "state") / name
    with open(lock_path, "a") as handle:
        os.chmod(lock_path, 0o640)
        fcntl.flock(handle.fileno(), operation)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def shared_state_lock(layout: Layout):
    """An exclusive lock on the warehouse's shared state (state/.lock), held by one
    process at a time; another run date waits for it."""
    return _warehouse_lock(layout, ".lock", fcntl.LOCK_EX)


def nights_lock(layout: Layout, shared: bool = True):
    """A lock on the nights' working state (state/.nights.lock): stages and jobs that
    read conformed tables or a base night's state hold it shared while they run;
    `fraudctl prune` (fraud/retention.py) holds it exclusively, so it never deletes a
    night that a running stage is reading."""
    return _warehouse_lock(layout, ".nights.lock", fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
