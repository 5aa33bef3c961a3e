"""A rotating log that never holds record values.

We log events, ids and counts, never field values. Exception messages from libraries can quote data (a value in a
failed SQL statement, a cell in a spreadsheet error), so tracebacks are written as type + frames only; our own
``UsalamaError`` messages are written in full because they are built to hold no values.
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path

from .errors import UsalamaError

LOG_NAME = "usalama"
_configured_dir: Path | None = None


def redacted_traceback(exc: BaseException) -> str:
    lines = ["Traceback (most recent call last):"]
    for frame in traceback.extract_tb(exc.__traceback__):
        lines.append(f'  File "{Path(frame.filename).name}", line {frame.lineno}, in {frame.name}')
    lines.append(describe(exc))
    cause = exc.__cause__ or exc.__context__
    depth = 0
    while cause is not None and depth < 5:
        lines.append(f"  caused by {describe(cause)}")
        cause = cause.__cause__ or cause.__context__
        depth += 1
    return "\n".join(lines)


def describe(exc: BaseException) -> str:
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, UsalamaError):
        return f"{kind}: {exc.message}"
    text = str(exc)
    return f"{kind}: <message withheld, {len(text)} characters>" if text else kind


class RedactingFormatter(logging.Formatter):
    def formatException(self, ei):  # noqa: N802 (logging's name)
        return redacted_traceback(ei[1]) if ei and ei[1] else ""

    def formatStack(self, stack_info):  # noqa: N802
        return ""


def setup_logging(log_dir: Path | None) -> logging.Logger:
    global _configured_dir
    logger = logging.getLogger(LOG_NAME)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if log_dir is None or _configured_dir == log_dir:
        return logger
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_dir / "usalama.log", maxBytes=1_000_000, backupCount=5,
                                                       encoding="utf-8")
    except OSError:
        return logger
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    _configured_dir = log_dir
    return logger


def log() -> logging.Logger:
    return logging.getLogger(LOG_NAME)
