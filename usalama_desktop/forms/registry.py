"""All form definitions, by name. Modules add their forms to FORM_MODULES; nothing else lists forms."""

from __future__ import annotations

import functools
import importlib

from .definition import Form

FORM_MODULES = [
    "usalama_desktop.forms.observatory",
]


@functools.cache
def forms() -> dict[str, Form]:
    out: dict[str, Form] = {}
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Form):
                if value.name in out and out[value.name] is not value:
                    raise ValueError(f"two forms called {value.name}")
                out[value.name] = value
    return out


def get_form(name: str) -> Form:
    from ..errors import UsalamaError
    from ..i18n import _

    try:
        return forms()[name]
    except KeyError:
        raise UsalamaError(_("There is no form called {name}. Forms: {names}.").format(
            name=name, names=", ".join(sorted(forms())))) from None


def forms_of_module(module: str) -> list[Form]:
    return [f for f in forms().values() if f.module == module]


def table_specs():
    return [f.table_spec for f in forms().values()]
