"""Run every benchmark and write docs/performance.md with the tables and the machine they ran on.

    .venv/bin/python bench/run_all.py [--only NAME ...]

Each bench module defines ``main() -> str`` (a markdown table with baselines measured in the same run). The big
installation (1,000,000 incidents) is built once by bench/gen_incidents.py and cached under bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import machine  # noqa: E402

BENCHES = [
    ("startup", "Start-up"),
    ("records", "Record lists, search and saving"),
    ("dashboard", "Observatory dashboard"),
    ("excel_import", "Excel import"),
    ("bundles", "Exchange bundles"),
    ("report", "Monthly summary PDF"),
    ("community", "Community modules"),
    ("cases", "Case modules"),
]


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--only", nargs="*")
    args = p.parse_args(argv)
    sections = []
    for name, title in BENCHES:
        if args.only and name not in args.only:
            continue
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"== {title} ({name}.py)", file=sys.stderr, flush=True)
        started = time.perf_counter()
        module = importlib.import_module(name)
        text = module.main()
        print(text, flush=True)
        sections.append((name, title, text, time.perf_counter() - started))
    if args.only:
        return 0
    out = HERE.parent / "docs" / "performance.md"
    lines = [
        "# Performance",
        "",
        "Measured by the scripts in `bench/` (run them all with `.venv/bin/python bench/run_all.py`, or one with",
        "`.venv/bin/python bench/<name>.py`). Every figure stands beside a baseline measured in the same run, so the",
        "ratio holds on another machine even where the times do not.",
        "",
        f"Last run: {dt.date.today().isoformat()} on {machine()}.",
        "",
    ]
    for name, title, text, secs in sections:
        lines += [f"## {title}", "", f"`bench/{name}.py` (took {secs:.0f} s)", "", text, ""]
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
