"""An installation: its data folder, set-up, login, recovery, and the open session that services hang off."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass

from .. import __version__, clock
from ..config import Paths
from ..errors import (
    AccountLocked,
    DatabaseDamaged,
    NotInitialised,
    PermissionDenied,
    UsalamaError,
    WrongPassword,
)
from ..fsutil import atomic_write_bytes, private_dir
from ..i18n import _
from ..permissions import ROLES, Actor
from ..reference import AGENCY_TYPE_IDS, counties
from ..store import audit
from ..store.db import Database
from ..store.ids import uuid7
from ..store.keyslots import (
    CURRENT_KDF,
    DB_KEY_BYTES,
    KeyStore,
    check_username,
    new_recovery_key,
    normalise_recovery_key,
    seal,
    unseal,
)
from ..store.schema import get_meta, migrate, pending_work, set_meta
from .lockout import LockoutStore

MIN_PASSWORD = 8
RECOVERY_NAME = "_recovery"


def check_password(password: str, username: str = "") -> str:
    if len(password or "") < MIN_PASSWORD:
        raise UsalamaError(_("A password needs at least {n} characters.").format(n=MIN_PASSWORD))
    if username and password.strip().lower() == username.lower():
        raise UsalamaError(_("A password must not be the same as the user name."))
    return password


def table_specs():
    from ..forms.registry import table_specs as specs

    return specs()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: str
    agency_id: str
    disabled: bool
    must_change_password: bool


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    type: str
    county: str
    subcounty: str
    ward: str


class Installation:
    def __init__(self, paths: Paths):
        self.paths = paths
        self.keystore = KeyStore(paths.keys)
        self.lockout = LockoutStore(paths.attempts)

    # --- facts readable before login ------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.paths.db.exists() and self.paths.installation_file.exists()

    def info(self) -> dict:
        try:
            return json.loads(self.paths.installation_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotInitialised(
                _("There is no Usalama installation in {folder}. Run the set-up first.").format(folder=self.paths.root)
            ) from None

    # --- set-up -------------------------------------------------------------------------------------------

    def initialise(self, agency_name: str, agency_type: str, county: str, admin_username: str, admin_password: str,
                   subcounty: str = "", ward: str = "", admin_display_name: str = "") -> tuple[Session, str]:
        """Create the database, the admin's slot and the recovery slot. Returns the session and the recovery key,
        which is shown once and never stored."""
        if self.paths.db.exists() or self.paths.installation_file.exists():
            raise UsalamaError(_("This folder already holds an installation; set-up was not run again."))
        agency_name = (agency_name or "").strip()
        if not agency_name:
            raise UsalamaError(_("Give the agency's name."))
        if agency_type not in AGENCY_TYPE_IDS:
            raise UsalamaError(_("Unknown agency type. Choose one of: {types}.").format(types=", ".join(AGENCY_TYPE_IDS)))
        county = (county or "").strip().zfill(3) if (county or "").strip().isdigit() else (county or "").strip()
        if county not in {c.value for c in counties()}:
            raise UsalamaError(_("Unknown county code. Use the three-digit code, for example 047 for Nairobi."))
        check_username(admin_username)
        check_password(admin_password, admin_username)
        private_dir(self.paths.root)
        private_dir(self.paths.keys)
        installation_id = uuid7()
        agency_id = uuid7()
        db_key = os.urandom(DB_KEY_BYTES)
        recovery_key = new_recovery_key()
        try:
            db = Database(self.paths.db, db_key, create=True)
            migrate(db, table_specs(), __version__)
            now = clock.now_iso()
            with db.transaction():
                for key, value in (("installation_id", installation_id), ("agency_id", agency_id),
                                   ("created_at", now)):
                    set_meta(db, key, value)
                db.execute(
                    "INSERT INTO agencies(id, name, type, county, subcounty, ward, is_local, created_at) "
                    "VALUES (?,?,?,?,?,?,1,?)",
                    (agency_id, agency_name, agency_type, county, subcounty.strip(), ward.strip(), now),
                )
                db.execute(
                    "INSERT INTO users(id, username, display_name, role, agency_id, created_at, created_by, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (uuid7(), admin_username, admin_display_name or admin_username, "admin", agency_id, now, "setup", now),
                )
                audit.append(db, "setup", "installation.create", "settings", installation_id,
                             {"agency_type": agency_type, "county": county})
                audit.append(db, "setup", "user.create", "users", admin_username, {"role": "admin"})
                audit.append(db, "setup", "recovery.create", "users", "recovery", {})
                self.keystore.write(seal(db_key, admin_password.encode("utf-8"), "user", admin_username,
                                         installation_id))
                self.keystore.write(seal(db_key, normalise_recovery_key(recovery_key), "recovery", "recovery",
                                         installation_id))
            atomic_write_bytes(
                self.paths.installation_file,
                json.dumps({"format": "usalama-installation", "version": 1, "installation_id": installation_id,
                            "agency_name": agency_name, "agency_type": agency_type, "county": county,
                            "created_at": now}, indent=2).encode("utf-8"),
            )
        except BaseException:
            with contextlib.suppress(Exception):
                db.close()
            for path in [*self.paths.db_files(), self.paths.installation_file]:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            shutil.rmtree(self.paths.keys, ignore_errors=True)
            raise
        session = Session(self, db, self._load_user(db, admin_username))
        return session, recovery_key

    # --- login ----------------------------------------------------------------------------------------------

    def _open_db(self, key: bytes) -> Database:
        db = Database(self.paths.db, key)
        try:
            specs = table_specs()
            if pending_work(db, specs):
                from .backup import pre_migration_backup

                if get_meta(db, "schema_version"):
                    pre_migration_backup(self, db)
                migrate(db, specs, __version__)
        except BaseException:
            db.close()
            raise
        return db

    def login(self, username: str, password: str) -> Session:
        username = (username or "").strip().lower()
        info = self.info()
        check_username(username)
        state = self.lockout.before_check(username)
        slot = self.keystore.read("user", username)
        try:
            if slot is None or slot.installation != info["installation_id"]:
                raise WrongPassword(_("Wrong user name or password."))
            key = unseal(slot, password.encode("utf-8"))
        except WrongPassword:
            self.lockout.failed(username, state)
            if state.locked:
                raise AccountLocked(
                    _("Wrong password ten times: this account is now locked. Ask an administrator to unlock it, or "
                      "use the recovery key.")
                ) from None
            raise WrongPassword(_("Wrong user name or password.")) from None
        try:
            db = self._open_db(key)
        except DatabaseDamaged:
            self.lockout.undo(username, state)
            raise
        except BaseException:
            self.lockout.undo(username, state)
            raise
        try:
            user = self._load_user(db, username)
            if user is None or user.disabled:
                raise PermissionDenied(_("This account is disabled. Ask an administrator."))
            if slot.params != CURRENT_KDF:
                with db.transaction():  # slot writers take turns (KeyStore.write)
                    self.keystore.write(seal(key, password.encode("utf-8"), "user", username, slot.installation))
            session = Session(self, db, user)
            self._flush_pending(db)
            self.lockout.succeeded(username, state)
            with db.transaction():
                db.execute("UPDATE users SET last_login_at = ? WHERE username = ?", (clock.now_iso(), username))
                audit.append(db, username, "login", "users", username, {})
            return session
        except BaseException:
            db.close()
            raise

    def _flush_pending(self, db: Database) -> None:
        entries = []
        for name in self.lockout.names():
            state = self.lockout.load(name)
            if not state.pending:
                continue
            for event in state.pending:
                who = "recovery" if name == RECOVERY_NAME else name
                entries.append((who, event.get("event", "login.failed"), "users", who,
                                {k: v for k, v in event.items() if k not in ("event", "at")}, event.get("at")))
            state.pending = []
            self.lockout.save(name, state)
        if entries:
            audit.append_many(db, entries)

    def recover(self, recovery_key: str, username: str, new_password: str) -> Session:
        """Open with the recovery key, set a new password for ``username`` and unlock it."""
        username = (username or "").strip().lower()
        check_username(username)
        check_password(new_password, username)
        info = self.info()
        state = self.lockout.before_check(RECOVERY_NAME, what="recovery")
        slot = self.keystore.read("recovery", "recovery")
        try:
            if slot is None:
                raise WrongPassword(_("This installation has no recovery key file. Restore the last backup."))
            key = unseal(slot, normalise_recovery_key(recovery_key))
        except WrongPassword:
            self.lockout.failed(RECOVERY_NAME, state, "recovery.failed")
            raise WrongPassword(_("That recovery key does not open this installation.")) from None
        try:
            db = self._open_db(key)
        except BaseException:
            self.lockout.undo(RECOVERY_NAME, state)
            raise
        try:
            user = self._load_user(db, username)
            if user is None:
                raise UsalamaError(_("There is no user called {name}.").format(name=username))
            with db.transaction():  # slot writers take turns (KeyStore.write)
                self.keystore.write(seal(key, new_password.encode("utf-8"), "user", username,
                                         info["installation_id"]))
            self.lockout.unlock(username)
            self._flush_pending(db)
            self.lockout.succeeded(RECOVERY_NAME, state)
            with db.transaction():
                db.execute("UPDATE users SET disabled = 0, must_change_password = 0, updated_at = ? WHERE username = ?",
                           (clock.now_iso(), username))
                audit.append(db, username, "recovery.used", "users", username, {})
            return Session(self, db, self._load_user(db, username))
        except BaseException:
            db.close()
            raise

    @staticmethod
    def _load_user(db: Database, username: str) -> User | None:
        r = db.one("SELECT id, username, display_name, role, agency_id, disabled, must_change_password "
                   "FROM users WHERE username = ?", (username,))
        if r is None:
            return None
        return User(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]))


class Session:
    """An open database and the signed-in user. Services take a session and check permissions against it."""

    def __init__(self, installation: Installation, db: Database, user: User):
        self.installation = installation
        self.db = db
        self.user = user
        self.installation_id = get_meta(db, "installation_id")
        local = db.one("SELECT id, name, type, county, subcounty, ward FROM agencies WHERE is_local = 1")
        self.agency = Agency(*[x or "" for x in local])
        self.actor = Actor(user.username, user.role, user.agency_id, self.agency.type)
        self._writer = None
        self.opened_ms = clock.now_ms()

    @property
    def writer(self):
        from ..store.records import RecordWriter

        if self._writer is None:
            self._writer = RecordWriter(self.db, self.installation_id, self.user.agency_id)
        return self._writer

    @property
    def username(self) -> str:
        return self.user.username

    def audit(self, action: str, module: str = "", target: str = "", detail: dict | None = None) -> None:
        audit.append(self.db, self.user.username, action, module, target, detail)

    def require_admin(self) -> None:
        if self.user.role != "admin":
            raise PermissionDenied(_("Only an administrator may do this."))

    def agency_name(self, agency_id: str) -> str:
        return self.db.scalar("SELECT name FROM agencies WHERE id = ?", (agency_id,)) or agency_id

    def close(self) -> None:
        if self.db is not None and not self.db.closed:
            self.db.close()

    @property
    def closed(self) -> bool:
        return self.db is None or self.db.closed

    def setting(self, key: str, default: str) -> str:
        return self.db.scalar("SELECT value FROM settings WHERE key = ?", (key,)) or default

    def set_setting(self, key: str, value: str) -> None:
        self.require_admin()
        with self.db.transaction():
            self.db.execute("INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET "
                            "value = excluded.value", (key, value))
            self.audit("settings.change", "settings", key, {"value": value})


__all__ = ["Installation", "Session", "User", "Agency", "ROLES", "check_password"]
