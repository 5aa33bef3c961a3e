"""Find shipped resources the same way installed, editable, from the source tree and frozen by PyInstaller."""

from __future__ import annotations

import csv
import functools
import sys
from pathlib import Path


@functools.cache
def resource_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    try:
        from importlib.resources import files

        path = Path(str(files("usalama_desktop.resources")))
        if (path / "reference").is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


@functools.cache
def read_csv(*parts: str) -> tuple[dict[str, str], ...]:
    with resource_path(*parts).open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))
