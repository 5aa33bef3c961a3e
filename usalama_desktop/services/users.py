"""User accounts: every change is an admin action (or a user changing their own password), and audited."""

from __future__ import annotations

import json

from .. import clock
from ..errors import NotFound, PermissionDenied, UsalamaError
from ..i18n import _
from ..permissions import ROLES
from ..store.ids import uuid7
from ..store.keyslots import check_username, seal, unseal
from .installation import Session, User, check_password


class UserService:
    def __init__(self, session: Session):
        self.s = session

    def _db_key(self, password: str | None) -> bytes:
        """The database key, to wrap in a new slot: from the open database, or re-derived from the acting user's
        own slot when a password is given (the command line confirms that way)."""
        if password is None:
            return self.s.db.key
        slot = self.s.installation.keystore.read("user", self.s.username)
        if slot is None:
            raise PermissionDenied(_("Your own key file is missing. Restore the last backup."))
        return unseal(slot, password.encode("utf-8"))

    def list(self) -> list[User]:
        if self.s.user.role != "admin":
            raise PermissionDenied(_("Only an administrator may manage user accounts."))
        rows = self.s.db.query("SELECT id, username, display_name, role, agency_id, disabled, must_change_password "
                               "FROM users ORDER BY username")
        return [User(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6])) for r in rows]

    def get(self, username: str) -> User:
        r = self.s.db.one("SELECT id, username, display_name, role, agency_id, disabled, must_change_password "
                          "FROM users WHERE username = ?", (username,))
        if r is None:
            raise NotFound(_("There is no user called {name}.").format(name=username))
        return User(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]))

    def add(self, username: str, role: str, new_password: str, acting_password: str | None = None,
            display_name: str = "") -> User:
        self.s.require_admin()
        username = check_username((username or "").strip().lower())
        if role not in ROLES:
            raise UsalamaError(_("Unknown role. Choose one of: {roles}.").format(roles=", ".join(ROLES)))
        check_password(new_password, username)
        if self.s.db.scalar("SELECT 1 FROM users WHERE username = ?", (username,)):
            raise UsalamaError(_("There is already a user called {name}.").format(name=username))
        key = self._db_key(acting_password)
        now = clock.now_iso()
        with self.s.db.transaction():
            self.s.db.execute(
                "INSERT INTO users(id, username, display_name, role, agency_id, must_change_password, created_at, "
                "created_by, updated_at) VALUES (?,?,?,?,?,1,?,?,?)",
                (uuid7(), username, display_name or username, role, self.s.agency.id, now, self.s.username, now),
            )
            self.s.audit("user.create", "users", username, {"role": role})
            self.s.installation.keystore.write(
                seal(key, new_password.encode("utf-8"), "user", username, self.s.installation_id))
        return self.get(username)

    def change_password(self, username: str, new_password: str, acting_password: str | None = None) -> None:
        """A user changes their own password, or an admin resets anyone's (no old password needed: audited)."""
        username = check_username((username or "").strip().lower())
        if username != self.s.username:
            self.s.require_admin()
        target = self.get(username)
        check_password(new_password, username)
        key = self._db_key(acting_password)
        with self.s.db.transaction():
            self.s.db.execute("UPDATE users SET must_change_password = ?, updated_at = ? WHERE username = ?",
                              (0 if username == self.s.username else 1, clock.now_iso(), username))
            self.s.audit("user.password" if username == self.s.username else "user.password_reset", "users",
                         username, {})
            if not target.disabled:
                self.s.installation.keystore.write(
                    seal(key, new_password.encode("utf-8"), "user", username, self.s.installation_id))

    def set_role(self, username: str, role: str) -> None:
        self.s.require_admin()
        if role not in ROLES:
            raise UsalamaError(_("Unknown role. Choose one of: {roles}.").format(roles=", ".join(ROLES)))
        target = self.get(username)
        if target.role == "admin" and role != "admin" and self._active_admins() <= 1:
            raise UsalamaError(_("This is the last administrator; make another administrator first."))
        with self.s.db.transaction():
            self.s.db.execute("UPDATE users SET role = ?, updated_at = ? WHERE username = ?",
                              (role, clock.now_iso(), username))
            self.s.audit("user.role", "users", username, {"role": role, "was": target.role})

    def _active_admins(self) -> int:
        return int(self.s.db.scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0"))

    def disable(self, username: str) -> None:
        """Disabling removes the account's key slot, so its password no longer opens the database at all."""
        self.s.require_admin()
        target = self.get(username)
        if username == self.s.username:
            raise UsalamaError(_("You cannot disable your own account."))
        if target.role == "admin" and self._active_admins() <= 1:
            raise UsalamaError(_("This is the last administrator; make another administrator first."))
        with self.s.db.transaction():
            self.s.db.execute("UPDATE users SET disabled = 1, updated_at = ? WHERE username = ?",
                              (clock.now_iso(), username))
            self.s.audit("user.disable", "users", username, {})
            self.s.installation.keystore.remove("user", username)

    def enable(self, username: str, new_password: str, acting_password: str | None = None) -> None:
        self.s.require_admin()
        self.get(username)
        check_password(new_password, username)
        key = self._db_key(acting_password)
        with self.s.db.transaction():
            self.s.db.execute("UPDATE users SET disabled = 0, must_change_password = 1, updated_at = ? "
                              "WHERE username = ?", (clock.now_iso(), username))
            self.s.audit("user.enable", "users", username, {})
            self.s.installation.keystore.write(
                seal(key, new_password.encode("utf-8"), "user", username, self.s.installation_id))

    def unlock(self, username: str) -> None:
        self.s.require_admin()
        self.get(username)
        with self.s.db.transaction():
            self.s.audit("user.unlock", "users", username, {})
            self.s.installation.lockout.unlock(username)

    def role_mismatches(self) -> list[str]:
        """Users whose role in the table differs from the last role the audit trail gave them (a direct edit)."""
        last_role: dict[str, str] = {}
        for r in self.s.db.query("SELECT target, detail FROM audit WHERE action IN ('user.create', 'user.role') "
                                 "ORDER BY seq"):
            last_role[r[0]] = json.loads(r[1]).get("role", "")
        out = []
        for r in self.s.db.query("SELECT username, role FROM users"):
            if last_role.get(r[0]) != r[1]:
                out.append(r[0])
        return out
