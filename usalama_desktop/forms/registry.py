"""All form definitions, by name. Modules add their forms to FORM_MODULES; nothing else lists forms."""

from __future__ import annotations

import functools
import importlib

from .definition import Form

FORM_MODULES = [
    "usalama_desktop.forms.observatory",
    "usalama_desktop.forms.counselling",
    "usalama_desktop.forms.ajs",
    "usalama_desktop.forms.family",
    "usalama_desktop.forms.feedback",
    "usalama_desktop.forms.policing",
    "usalama_desktop.forms.safety_audit",
    "usalama_desktop.forms.groups",
    "usalama_desktop.forms.meetings",
]


def import_optional(name: str):
    """Import a module listed in a registry; a module not written yet is skipped (not an error it raises)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def forms() -> dict[str, Form]:
    return declared_forms()


@functools.cache
def declared_forms() -> dict[str, Form]:
    """The forms FORM_MODULES declare (what ``forms`` gives, unless a test adds forms of its own)."""
    out: dict[str, Form] = {}
    for name in FORM_MODULES:
        module = import_optional(name)
        if module is None:
            continue
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


def ref(form_name: str, field_name: str) -> str:
    """Name a field from code outside its form (analysis, reports, profiles): fails loudly if no form declares it.

    A test walks the source for every ``ref("form", "field")`` and checks it too, so a renamed field breaks the
    build rather than a report.
    """
    form = forms().get(form_name)
    if form is None or not form.declares(field_name):
        raise KeyError(f"form {form_name} declares no field {field_name}")
    return field_name
