"""Bulk work (an import of many thousand records) with Python's cyclic garbage collector paused.

Decoding and checking records makes millions of short-lived dicts and lists. Each 700 new ones start a collection
that walks the young objects, and the older collections walk everything still held (an Excel import holds every
row until it is written), so collection can cost as much as the work itself. The records make no reference cycles:
plain reference counting frees them as before (a 1,000,000-record bundle import stays within its 200 MB). It is
switched back on however the work ends, and one collection then clears anything cyclic made meanwhile (an
exception's traceback).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_active = 0  # blocks running now, on any thread (the switch is the whole process's)
_resume = False  # whether collection was on when the first of them began


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Pause cyclic collection for the block. Blocks may nest or overlap on several threads: collection comes back
    on (if it was on before the first) when the last one ends."""
    global _active, _resume
    with _lock:
        if _active == 0:
            _resume = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            last = _active == 0 and _resume
            if last:
                gc.enable()
        if last:
            gc.collect(1)
