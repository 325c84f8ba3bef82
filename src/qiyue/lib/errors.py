"""Errors that name the fields they are about."""

from __future__ import annotations


class FieldErrors(ValueError):
    """Bad input; ``errors`` maps field names (or ``__all__``) to messages for the user.

    A bare string is a form-wide message (``__all__``). ``code`` is a stable
    machine-readable reason (a subclass sets its default, a raise may override it)."""

    code = "invalid"

    def __init__(self, errors: dict[str, str] | str, *, code: str | None = None):
        if isinstance(errors, str):
            errors = {"__all__": errors}
        super().__init__("; ".join(v if k == "__all__" else f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        if code:
            self.code = code
