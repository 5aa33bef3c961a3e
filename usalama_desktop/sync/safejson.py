"""Strict JSON for hostile input: a byte cap before parsing, UTF-8 only (no BOM), no NaN or Infinity, no duplicate
keys, no huge numbers, bounded nesting (THREATS 34). Every failure is a ``JSONRefused`` with a plain reason."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_INT_DIGITS = 15


class JSONRefused(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise JSONRefused("a key appears twice in one object")
    return out


def _constant(name: str) -> Any:
    raise JSONRefused(f"{name} is not a number JSON allows")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONRefused("a number is too large")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 40:
        raise JSONRefused("a number is too long")
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused("a number is too large")
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_constant, parse_int=_int,
                            parse_float=_float, strict=True)


def depth(value: Any) -> int:
    """Nesting depth, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def loads(data: bytes, max_bytes: int, max_depth: int) -> Any:
    if len(data) > max_bytes:
        raise JSONRefused(f"more than {max_bytes} bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        raise JSONRefused("starts with a byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONRefused("not valid UTF-8") from None
    brackets = data.count(b"[") + data.count(b"{")
    if brackets > 10 * max_depth:
        # Plenty of brackets: could be deep. Bound it before the recursive C parser sees it.
        _bracket_depth(text, max_depth)
    try:
        value, end = _DECODER.raw_decode(text)
    except JSONRefused:
        raise
    except RecursionError:
        raise JSONRefused("nested too deeply") from None
    except ValueError as exc:
        raise JSONRefused(f"not valid JSON ({type(exc).__name__})") from None
    if text[end:].strip(" \t\r\n"):
        raise JSONRefused("extra data after the JSON value")
    if brackets > max_depth and depth(value) > max_depth:  # fewer brackets than the limit cannot nest deeper
        raise JSONRefused("nested too deeply")
    return value


def _bracket_depth(text: str, max_depth: int) -> None:
    level, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            if level > max_depth:
                raise JSONRefused("nested too deeply")
        elif ch in "]}":
            level -= 1
