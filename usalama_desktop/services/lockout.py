"""Failed-login counters kept outside the database (which is closed until a password works).

The counter is raised and written to disk *before* the password is checked, so killing the program mid-check does
not give an attacker a free guess. Delays grow from the third failure; the tenth locks the account until an admin
or the recovery key unlocks it. Failures are queued here and copied into the audit trail at the next login.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import clock
from ..errors import AccountLocked, LoginDelayed
from ..fsutil import atomic_write_bytes, private_dir
from ..i18n import _

DELAY_FROM = 3
LOCK_AT = 10
MAX_PENDING = 200


@dataclass
class Attempts:
    failures: int = 0
    last_failure_ms: int = 0
    locked: bool = False
    last_seen_ms: int = 0
    pending: list[dict] = field(default_factory=list)  # events waiting for the audit trail


class LockoutStore:
    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def load(self, name: str) -> Attempts:
        try:
            doc = json.loads(self._path(name).read_text(encoding="utf-8"))
            return Attempts(**{k: doc[k] for k in Attempts.__dataclass_fields__ if k in doc})
        except FileNotFoundError:
            return Attempts()
        except (ValueError, TypeError):
            # A damaged counter file must not unlock anything: treat it as locked.
            return Attempts(failures=LOCK_AT, locked=True)

    def save(self, name: str, state: Attempts) -> None:
        private_dir(self.folder)
        state.pending = state.pending[-MAX_PENDING:]
        atomic_write_bytes(self._path(name), json.dumps(asdict(state)).encode("utf-8"))

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []

    # --- the login protocol --------------------------------------------------------------------------------

    def before_check(self, name: str, what: str = "login") -> Attempts:
        """Refuse if locked or delayed; otherwise count this attempt as failed, on disk, and return the state."""
        state = self.load(name)
        now = clock.now_ms()
        if state.last_seen_ms and now + 60_000 < state.last_seen_ms:
            state.pending.append({"event": "clock.back", "at": clock.iso(now), "last_seen": clock.iso(state.last_seen_ms)})
            # The clock was set back: restart any running delay from now rather than letting it lapse.
            if state.failures >= DELAY_FROM:
                state.last_failure_ms = now
            state.last_seen_ms = now  # warned once; from here on time runs from the new setting
        if state.locked:
            self.save(name, state)
            if what == "recovery":
                raise AccountLocked(_("The recovery key is locked after too many wrong tries. Ask for help from "
                                      "the Community Safety Forum coordinator."))
            raise AccountLocked(
                _("This account is locked after too many wrong passwords. Ask an administrator to unlock it, or use "
                  "the recovery key.")
            )
        if state.failures >= DELAY_FROM:
            wait_ms = (2 ** (state.failures - DELAY_FROM)) * 1000
            remaining = state.last_failure_ms + wait_ms - now
            if remaining > 0:
                self.save(name, state)
                raise LoginDelayed(
                    _("Too many wrong passwords. Wait {seconds} seconds, then try again.").format(
                        seconds=max(1, round(remaining / 1000))
                    ),
                    remaining / 1000,
                )
        state.failures += 1
        state.last_failure_ms = now
        state.last_seen_ms = max(state.last_seen_ms, now)
        if state.failures >= LOCK_AT:
            state.locked = True
        self.save(name, state)
        return state

    def failed(self, name: str, state: Attempts, what: str = "login.failed") -> None:
        state.pending.append({"event": what, "at": clock.now_iso(), "failures": state.failures,
                              "locked": state.locked})
        self.save(name, state)

    def undo(self, name: str, state: Attempts) -> None:
        """The password was right but something else failed (a damaged database): this attempt does not count."""
        state.failures = max(0, state.failures - 1)
        if state.failures < LOCK_AT:
            state.locked = False
        self.save(name, state)

    def succeeded(self, name: str, state: Attempts) -> list[dict]:
        """Reset the counter; hand back queued events for the audit trail."""
        pending = list(state.pending)
        self.save(name, Attempts(last_seen_ms=max(state.last_seen_ms, clock.now_ms())))
        return pending

    def unlock(self, name: str) -> None:
        state = self.load(name)
        state.failures, state.locked, state.last_failure_ms = 0, False, 0
        self.save(name, state)
