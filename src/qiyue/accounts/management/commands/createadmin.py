"""``qiyue createadmin``: an administrator with every permission."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.accounts import actions


class Command(BaseCommand):
    help = (
        "Create an administrator. The password comes from --password, "
        "QIYUE_ADMIN_PASSWORD or a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        password = opts["password"] or os.environ.get("QIYUE_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        roles = actions.ensure_builtin_roles()
        try:
            user = actions.create_user(
                actor=None,
                username=opts["username"],
                password=password,
                email=opts["email"],
                role=roles["admin"],
                is_superuser=True,
            )
        except actions.AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Administrator {user.username} created.")
