"""QuickSelect renders what Django's Select renders, only faster (cases/forms/widgets.py)."""

import re

import pytest
from django import forms

from cases.forms.widgets import QuickSelect, QuickSelectMultiple

CHOICES = [("", "---------"), ("a", "甲 & <乙>"), ("Group 组", [("b", "B \"quoted\""), ("c", "C")]),
           (3, "three")]


def _normalised(html: str) -> str:
    """Django's templates put newlines between options; the browser ignores them."""
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize(("django_widget", "quick_widget", "value"), [
    (forms.Select, QuickSelect, "b"),  # inside the optgroup
    (forms.Select, QuickSelect, None),
    (forms.SelectMultiple, QuickSelectMultiple, ["a", "3"]),
])
def test_the_markup_is_the_same_as_djangos(django_widget, quick_widget, value):
    attrs = {"class": "form-select is-invalid", "aria-describedby": "x-error", "required": True,
             "data-note": "<&>"}
    expected = django_widget(attrs=attrs, choices=CHOICES).render("unit", value, {"id": "id_unit"})
    quick = quick_widget(attrs=attrs, choices=CHOICES).render("unit", value, {"id": "id_unit"})
    assert _normalised(quick) == _normalised(expected)
    assert quick.count(" selected") == (2 if isinstance(value, list) else 1)  # None picks ""


def test_quicken_keeps_the_fields_choices_attributes_and_requiredness():
    from cases.forms.widgets import quicken

    class Filter(forms.Form):
        unit = forms.ChoiceField(choices=CHOICES, widget=forms.Select(attrs={"class": "form-select"}))
        many = forms.MultipleChoiceField(choices=CHOICES, required=False)

    plain, quick = Filter({"unit": "c"}), Filter({"unit": "c"})
    for field in quick.fields.values():
        quicken(field)
    assert isinstance(quick.fields["unit"].widget, QuickSelect)
    assert isinstance(quick.fields["many"].widget, QuickSelectMultiple)
    for name in ("unit", "many"):
        assert _normalised(str(quick[name])) == _normalised(str(plain[name]))
    assert quick.is_valid() and quick.cleaned_data["unit"] == "c"
