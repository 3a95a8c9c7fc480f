"""A select rendered in Python, for the long lists of units, categories and leaders.

Django renders every ``<option>`` through a template include; a county's few hundred
units and categories on the case list's filter form and the intake form then cost
more than the list's queries (``make bench``). ``QuickSelect`` writes the same markup
(attributes escaped the same way, optgroups kept) with ``format_html``, one call per
option; a test compares it with Django's own rendering.
"""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> SafeString:
    """As Django's ``attrs.html``: in order, ``True`` bare, ``False`` left out."""
    return format_html_join("", "{}", (
        (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
        for name, value in attrs.items() if value is not False and value is not None))


def _options(choices: list[dict]) -> SafeString:
    return format_html_join("", "<option value=\"{}\"{}>{}</option>",
                            ((option["value"] if option["value"] is not None else "",
                              _attrs(option["attrs"]), option["label"])
                             for option in choices))


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group, choices, _index in widget["optgroups"]:
            options = _options(choices)
            parts.append(format_html("<optgroup label=\"{}\">{}</optgroup>", group, options)
                         if group else options)
        return format_html("<select name=\"{}\"{}>{}</select>", widget["name"],
                           _attrs(widget["attrs"]), mark_safe("".join(parts)))  # noqa: S308


class QuickSelectMultiple(QuickSelect, forms.SelectMultiple):
    """The multiple select, rendered the same way (``multiple`` comes from its context)."""


def quicken(field: forms.Field) -> None:
    """Give a choice field whose widget is Django's plain select the quick one, keeping its
    attributes and choices (a model choice field's lazy iterator included)."""
    widget = field.widget
    quick = {forms.Select: QuickSelect, forms.SelectMultiple: QuickSelectMultiple}.get(type(widget))
    if quick is None:
        return
    field.widget = quick(attrs=widget.attrs)
    field.widget.choices = widget.choices
    field.widget.is_required = widget.is_required
