"""The ``qiyue`` command: Django's management commands under one name.

``qiyue serve``, ``qiyue migrate``, ``qiyue demo``, ``qiyue token create USERNAME``,
``qiyue createadmin`` and every other management command (``qiyue check --deploy``…)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiyue.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "qiyue"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
