"""Hybrid logical clock: wall time that never goes backwards, with a counter for ties and the node for order.

A stamp is a fixed-width string, ``<ms:15>-<counter:5>-<node>``, so comparing strings compares stamps. PC clocks in
the field are often wrong; a stamp from a remote node advances ours (``observe``), so an edit made after importing a
bundle always sorts after what the bundle carried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import clock

_STAMP = re.compile(r"^(\d{15})-(\d{5})-([0-9a-f-]{36})$")
MAX_DRIFT_MS = 366 * 24 * 3600 * 1000  # a remote stamp a year ahead of us is refused, not adopted


@dataclass(frozen=True, order=True)
class Stamp:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:015d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        m = _STAMP.match(text or "")
        if not m:
            raise ValueError("not a clock stamp")
        return cls(int(m.group(1)), int(m.group(2)), m.group(3))


def is_stamp(text: object) -> bool:
    return isinstance(text, str) and bool(_STAMP.match(text))


class HybridClock:
    def __init__(self, node: str, last: str | None = None):
        self.node = node
        if last:
            s = Stamp.parse(last)
            self.ms, self.counter = s.ms, s.counter
        else:
            self.ms, self.counter = 0, 0

    def tick(self) -> str:
        wall = clock.now_ms()
        if wall > self.ms:
            self.ms, self.counter = wall, 0
        else:
            self.counter += 1
            if self.counter > 99999:
                self.ms, self.counter = self.ms + 1, 0
        return str(Stamp(self.ms, self.counter, self.node))

    def observe(self, remote: str) -> None:
        """Advance past a stamp we received, so our next edit orders after it."""
        r = Stamp.parse(remote)
        if r.ms > clock.now_ms() + MAX_DRIFT_MS:
            raise ValueError("clock stamp too far in the future")
        if (r.ms, r.counter) > (self.ms, self.counter):
            self.ms, self.counter = r.ms, r.counter

    @property
    def last(self) -> str:
        return str(Stamp(self.ms, self.counter, self.node))
