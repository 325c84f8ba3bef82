"""Errors that name the fields they are about."""

from __future__ import annotations


class FieldErrors(ValueError):
    """Bad input; ``errors`` maps field names (or ``__all__``) to messages for the user."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
