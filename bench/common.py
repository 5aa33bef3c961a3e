"""Shared helpers for benchmarks: timing, a figures table with ratios to a baseline measured in the same run,
and a note of the machine it ran on."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024 // 1024} GiB"
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def timed(fn, repeat: int = 1):
    """Run ``fn`` ``repeat`` times; return (median seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def table(title: str, rows: list[tuple], headers=("measure", "time", "baseline", "ratio", "target")) -> str:
    """rows: (name, seconds, baseline_name_or_None, baseline_seconds_or_None, target_text)."""
    lines = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for name, secs, base_name, base_secs, target in rows:
        ratio = f"{secs / base_secs:.2f}x" if base_secs else ""
        base = f"{base_name}: {fmt(base_secs)}" if base_name else ""
        lines.append(f"| {name} | {fmt(secs)} | {base} | {ratio} | {target} |")
    return "\n".join(lines)


def fmt(secs: float | None) -> str:
    if secs is None:
        return ""
    if secs < 1:
        return f"{secs * 1000:.1f} ms"
    return f"{secs:.2f} s"


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw)
