"""Form definitions are the single source of truth: everything that names a field must name a declared one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from usalama_desktop.forms.definition import Custom, NotBefore, RowRule
from usalama_desktop.forms.fields import KINDS
from usalama_desktop.forms.registry import forms, ref

ROOT = Path(__file__).resolve().parent.parent


def test_code_refers_only_to_declared_fields():
    """Every ref("form", "field") in the program names a field its form declares."""
    bad = []
    for path in (ROOT / "usalama_desktop").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "ref"
                    and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args)):
                form_name, field_name = (a.value for a in node.args)
                try:
                    ref(form_name, field_name)
                except KeyError:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {form_name}.{field_name}")
    assert bad == []


def test_ref_fails_loudly_for_an_undeclared_field():
    with pytest.raises(KeyError):
        ref("incident", "no_such_field")
    assert ref("incident", "offence_category") == "offence_category"


@pytest.mark.parametrize("name", sorted(forms()))
def test_each_form_names_only_its_own_fields(name):
    form = forms()[name]
    declared = form.all_field_names()
    for attr in ("reference_field", "date_field", "category_field", "status_field", "place_field"):
        value = getattr(form, attr)
        assert value is None or value in declared, (attr, value)
    for col in (*form.list_columns, *form.title_fields):
        assert col in declared, col
    items = [*form.fields, *[f for r in form.repeats for f in r.fields]]
    assert len({f.name for f in form.fields} | {r.name for r in form.repeats}) == len(form.fields) + len(form.repeats)
    for f in items:
        assert f.kind in KINDS
        if f.relevant is not None:
            for used in f.relevant.fields():
                assert used in declared or any(used in r.by_name for r in form.repeats), (f.name, used)
    for section in form.sections:
        if section.relevant is not None:
            assert section.relevant.fields() <= declared
    for rule in form.rules:
        assert isinstance(rule, NotBefore | RowRule | Custom) or hasattr(rule, "check")
        group = form.repeat_by_name.get(rule.fields[0])
        for used in rule.fields:
            assert used in declared or (group is not None and used in group.by_name), (rule, used)


@pytest.mark.parametrize("name", sorted(forms()))
def test_each_form_has_a_table_and_round_trips_values(name):
    form = forms()[name]
    spec = form.table_spec
    cols = [c.name for c in spec.columns]
    assert len(cols) == len(set(cols))
    values = form.clean(form.empty_values())
    change = form.to_change(values)
    assert set(change.values) == set(cols)
    back = form.from_row(change.values, change.children)
    assert form.clean(back) == values


def test_several_choice_answers_are_stored_as_the_standard_encoder_writes_them():
    """``choices_json`` joins plain codes directly: the text must be json.dumps's, byte for byte, for any list (stored
    text is compared, hashed and searched), with quotes, backslashes, control characters and other types encoded."""
    import json
    import random

    from usalama_desktop.forms.fields import choices_json

    rng = random.Random(11)
    alphabet = 'ab_ "\\\x00\x1f\x7f\u00e9\u2028\ud800'
    cases = [[], ["robbery"], ["police", "health", "childrens_office"], [1, "a"], [None], ["a", 2.5]]
    cases += [["".join(rng.choice(alphabet) for _ in range(rng.randrange(5))) for _ in range(rng.randrange(4))]
              for _ in range(5000)]
    for items in cases:
        assert choices_json(list(items)) == json.dumps(list(items), ensure_ascii=False), items
    referrals = forms()["incident"].field("referrals")
    assert referrals.to_sql(["police", "health"]) == {"referrals": '["police", "health"]'}
