"""List user-facing strings (``_("...")`` literals) that have no Kiswahili yet.

    python tools/i18n.py missing [paths...]   # prints a JSON object of missing msgids, ready to translate
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def msgids(paths) -> dict[str, list[str]]:
    """msgid -> files where it appears."""
    found: dict[str, list[str]] = {}
    for path in paths:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, []).append(str(path))
    return found


def source_files() -> list[Path]:
    return sorted(p for p in (ROOT / "usalama_desktop").rglob("*.py"))


def catalogue() -> dict[str, str]:
    merged = {}
    for p in sorted((ROOT / "resources" / "i18n" / "sw").glob("*.json")):
        merged.update(json.loads(p.read_text(encoding="utf-8")))
    return merged


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "missing":
        print(__doc__)
        raise SystemExit(2)
    files = [Path(p) for p in sys.argv[2:]] or source_files()
    have = catalogue()
    missing = {m: "" for m in msgids(files) if m not in have}
    print(json.dumps(missing, ensure_ascii=False, indent=2))
