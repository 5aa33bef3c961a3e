"""Where an installation's files live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "UsalamaDesktop"


def default_data_dir() -> Path:
    env = os.environ.get("USALAMA_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_DIR_NAME, "Usalama", roaming=False))


@dataclass(frozen=True)
class Paths:
    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def db(self) -> Path:
        return self.root / "usalama.db"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def attempts(self) -> Path:
        return self.root / "keys" / "attempts"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def installation_file(self) -> Path:
        """Non-secret facts needed before login: installation id, agency name for the login window."""
        return self.root / "installation.json"

    def db_files(self) -> list[Path]:
        return [self.db, self.db.with_name(self.db.name + "-wal"), self.db.with_name(self.db.name + "-shm")]


def resolve(data_dir: str | os.PathLike | None) -> Paths:
    return Paths(Path(data_dir).expanduser().resolve() if data_dir else default_data_dir().resolve())
