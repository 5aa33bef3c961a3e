"""Encrypted backups: SQLCipher's online backup API into a keyed copy, packed with the key slots.

A backup file is a zip (stored, not compressed: the database is already encrypted) holding ``usalama.db``, the
key slots and ``backup.json``. It opens with the accounts and recovery key that existed when it was made.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from .. import __version__, clock
from ..errors import UsalamaError, WrongPassword
from ..fsutil import fsync_dir, private_dir
from ..i18n import _
from ..store import audit
from ..store.db import Database
from ..store.keyslots import KeySlot, normalise_recovery_key, unseal
from ..store.schema import get_meta, schema_version

BACKUP_FORMAT = "usalama-backup"
_MEMBER = re.compile(r"^(usalama\.db|backup\.json|installation\.json|keys/recovery\.slot|keys/users/[a-z][a-z0-9_.-]{1,31}\.slot)$")
MAX_MEMBERS = 1000


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_backup(installation, db: Database, out: Path, username: str, progress=None) -> dict:
    out = Path(out)
    if out.exists() and out.is_dir():
        out = out / f"usalama-backup-{clock.now().strftime('%Y%m%d-%H%M%S')}.usalama-backup"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".usalama-backup-") as tmp:
        tmp_db = Path(tmp) / "usalama.db"

        def pages(status, remaining, total):
            if progress:
                progress(total - remaining, total)

        db.backup_to(tmp_db, progress=pages)
        check = Database(tmp_db, db.key)
        try:
            problems = check.integrity_problems()
        finally:
            check.close()
        if problems:
            raise UsalamaError(_("The backup copy failed its check; nothing was written. Try again."))
        manifest = {
            "format": BACKUP_FORMAT, "version": 1, "app_version": __version__, "created_at": clock.now_iso(),
            "installation_id": get_meta(db, "installation_id"), "schema_version": schema_version(db),
            "db_sha256": _sha256(tmp_db),
        }
        tmp_zip = Path(tmp) / "out.zip"
        with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("backup.json", json.dumps(manifest, indent=2))
            zf.write(tmp_db, "usalama.db")
            if installation.paths.installation_file.exists():
                zf.write(installation.paths.installation_file, "installation.json")
            for slot_file in installation.keystore.all_files():
                zf.write(slot_file, slot_file.relative_to(installation.paths.root).as_posix())
        with tmp_zip.open("rb+") as f:
            import os

            os.fsync(f.fileno())
        tmp_zip.replace(out)
        fsync_dir(out.parent)
    # Read back what is now on the disk before saying it worked.
    verify_backup_file(out)
    with db.transaction():
        audit.append(db, username, "backup", "backup", out.name, {"schema_version": manifest["schema_version"]})
    return {**manifest, "path": str(out)}


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsalamaError(_("This is not a Usalama backup file, or it is damaged.")) from exc
    names = [i.filename for i in zf.infolist()]
    if len(names) > MAX_MEMBERS or len(set(names)) != len(names) or not all(_MEMBER.match(n) for n in names):
        zf.close()
        raise UsalamaError(_("This is not a Usalama backup file, or it is damaged."))
    return zf


def verify_backup_file(path: Path) -> dict:
    with _open_archive(Path(path)) as zf:
        try:
            manifest = json.loads(zf.read("backup.json"))
            if manifest.get("format") != BACKUP_FORMAT:
                raise ValueError
            h = hashlib.sha256()
            with zf.open("usalama.db") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
            raise UsalamaError(_("This is not a Usalama backup file, or it is damaged.")) from exc
        if h.hexdigest() != manifest.get("db_sha256"):
            raise UsalamaError(_("The backup file is damaged (its check sum does not match)."))
    return manifest


def pre_migration_backup(installation, db: Database) -> Path:
    folder = private_dir(installation.paths.backups)
    out = folder / f"before-upgrade-v{schema_version(db)}-{clock.now().strftime('%Y%m%d-%H%M%S')}.usalama-backup"
    write_backup(installation, db, out, "system")
    return out


def restore_backup(installation, backup: Path, username: str, secret: str, use_recovery_key: bool = False) -> dict:
    """Replace this installation's database and key slots with a backup's, after proving the backup opens.

    ``secret`` is the password of ``username`` as it was when the backup was made (or the recovery key). The
    current files are kept in backups/replaced-<time>/ so a restore can itself be undone.
    """
    manifest = verify_backup_file(backup)
    paths = installation.paths
    private_dir(paths.root)
    staging = Path(tempfile.mkdtemp(dir=paths.root, prefix=".restore-"))
    try:
        with _open_archive(Path(backup)) as zf:
            for name in zf.namelist():
                target = staging.joinpath(*name.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        slot_path = (staging / "keys" / "recovery.slot") if use_recovery_key else (
            staging / "keys" / "users" / f"{username}.slot")
        if not slot_path.exists():
            raise WrongPassword(_("That account does not exist in the backup."))
        slot = KeySlot.from_json(slot_path.read_bytes())
        key = unseal(slot, normalise_recovery_key(secret) if use_recovery_key else secret.encode("utf-8"))
        check = Database(staging / "usalama.db", key)
        try:
            problems = check.integrity_problems()
        finally:
            check.close()
        if problems:
            raise UsalamaError(_("The backup is damaged and was not restored."))
        keep = paths.backups / f"replaced-{clock.now().strftime('%Y%m%d-%H%M%S')}"
        private_dir(keep)
        for p in [*paths.db_files(), paths.installation_file]:
            if p.exists():
                shutil.move(str(p), keep / p.name)
        if paths.keys.exists():
            shutil.move(str(paths.keys), keep / "keys")
        # Keep failed-login counters: restoring must not reset a lockout.
        if (keep / "keys" / "attempts").exists():
            (staging / "keys").mkdir(exist_ok=True)
            shutil.copytree(keep / "keys" / "attempts", staging / "keys" / "attempts", dirs_exist_ok=True)
        shutil.move(str(staging / "usalama.db"), paths.db)
        shutil.move(str(staging / "keys"), paths.keys)
        if (staging / "installation.json").exists():
            shutil.move(str(staging / "installation.json"), paths.installation_file)
        fsync_dir(paths.root)
        db = Database(paths.db, key)
        try:
            with db.transaction():
                audit.append(db, username if not use_recovery_key else "recovery", "restore", "backup",
                             Path(backup).name, {"backup_created_at": manifest.get("created_at")})
        finally:
            db.close()
        return {**manifest, "replaced": str(keep)}
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
