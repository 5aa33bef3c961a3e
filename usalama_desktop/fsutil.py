"""Files written atomically: temp name in the same folder, flush, fsync, rename, fsync the folder."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: Path) -> Path:
    """A new hidden temporary name beside ``path``, for writing it before a rename (``remove_leftovers`` knows the
    form: ``.name.<random>.tmp``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a binary file; on clean exit it replaces ``path`` in one step, on error nothing changes."""
    path = Path(path)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_leftovers(path: Path) -> None:
    """Remove the temporary files (``temp_path``) that writes of ``path`` cut short (a power cut, kill -9) left beside
    it. Only for a file whose writers take turns, so that none of them can be another writer's file still being
    written."""
    for leftover in Path(path).parent.glob(f".{Path(path).name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    with atomic_writer(path, mode) as f:
        f.write(data)


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path
