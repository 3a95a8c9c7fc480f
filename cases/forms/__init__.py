"""Forms only validate and convert what was typed; the rules stay in the services."""


def mark_invalid(form) -> None:
    """Mark each field with an error for the eye and the screen reader (UI.md: the message
    sits at the field, and the field says where it is)."""
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            attrs["aria-invalid"] = "true"
            described = f"{attrs.get('aria-describedby', '')} {form[name].auto_id}-error"
            attrs["aria-describedby"] = described.strip()
