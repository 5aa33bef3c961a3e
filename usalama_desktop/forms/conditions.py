"""Skip logic as data: a condition names the fields it reads, so the registry can check they exist, the form can
re-evaluate only when they change, and the Excel instructions can describe it in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Cond:
    def __call__(self, values: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def fields(self) -> set[str]:
        raise NotImplementedError

    def describe(self, label_of) -> str:
        raise NotImplementedError


def _has(v: Any) -> bool:
    return v not in (None, "", [], {}, False)


@dataclass(frozen=True)
class Eq(Cond):
    field: str
    value: Any

    def __call__(self, values):
        v = values.get(self.field)
        return self.value in v if isinstance(v, list) else v == self.value

    def fields(self):
        return {self.field}

    def describe(self, label_of):
        return f"{label_of(self.field)} = {self.value}"


@dataclass(frozen=True)
class In(Cond):
    field: str
    options: tuple

    def __call__(self, values):
        v = values.get(self.field)
        if isinstance(v, list):
            return any(x in self.options for x in v)
        return v in self.options

    def fields(self):
        return {self.field}

    def describe(self, label_of):
        return f"{label_of(self.field)} in ({', '.join(map(str, self.options))})"


@dataclass(frozen=True)
class Filled(Cond):
    """True when the field has a value (for yes/no fields: when it is yes)."""

    field: str

    def __call__(self, values):
        return _has(values.get(self.field))

    def fields(self):
        return {self.field}

    def describe(self, label_of):
        return f"{label_of(self.field)} given"


@dataclass(frozen=True)
class Not(Cond):
    inner: Cond

    def __call__(self, values):
        return not self.inner(values)

    def fields(self):
        return self.inner.fields()

    def describe(self, label_of):
        return f"not ({self.inner.describe(label_of)})"


@dataclass(frozen=True)
class All(Cond):
    parts: tuple[Cond, ...]

    def __call__(self, values):
        return all(p(values) for p in self.parts)

    def fields(self):
        return set().union(*(p.fields() for p in self.parts))

    def describe(self, label_of):
        return " and ".join(p.describe(label_of) for p in self.parts)


@dataclass(frozen=True)
class Any_(Cond):
    parts: tuple[Cond, ...]

    def __call__(self, values):
        return any(p(values) for p in self.parts)

    def fields(self):
        return set().union(*(p.fields() for p in self.parts))

    def describe(self, label_of):
        return " or ".join(p.describe(label_of) for p in self.parts)
