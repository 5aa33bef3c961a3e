"""Wall-clock access in one place, so tests can move time and the HLC can guard against clocks set back."""

from __future__ import annotations

import datetime as dt
import time

_offset_ms = 0


def now_ms() -> int:
    return int(time.time() * 1000) + _offset_ms


def now() -> dt.datetime:
    return dt.datetime.fromtimestamp(now_ms() / 1000, tz=dt.UTC)


def now_iso() -> str:
    return iso(now_ms())


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def today() -> dt.date:
    """Today in Kenya (EAT, UTC+3): the date a clerk means by 'today'."""
    return (now() + dt.timedelta(hours=3)).date()


def offset_ms() -> int:
    """How far tests have moved the clock (0 in use): a helper process is started with the same clock."""
    return _offset_ms


def shift(ms: int) -> None:
    """Tests only: move the clock by ``ms``."""
    global _offset_ms
    _offset_ms += ms


def reset() -> None:
    global _offset_ms
    _offset_ms = 0
