"""``qiyue token create USERNAME [--name NAME]`` and ``qiyue token list USERNAME``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.accounts import actions, queries


class Command(BaseCommand):
    help = "Create or list API tokens. `create` prints the new token as its last line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="create a token for a user")
        create.add_argument("username")
        create.add_argument("--name", default="cli")
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("username")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = actions.user_by_username(opts["username"])
        if user is None or not user.is_active:
            raise CommandError(f"no active user {opts['username']!r}")
        if opts["verb"] == "create":
            try:
                token, raw = actions.create_api_token(actor=user, user=user, name=opts["name"])
            except actions.AccountError as exc:
                raise CommandError(str(exc)) from None
            self.stderr.write(f"Token {token.name!r} for {user.username}; it is shown only once:")
            self.stdout.write(raw)
        else:
            for token in queries.tokens_of(user):
                state = "revoked" if token.revoked_at else "active"
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}…  {token.name}  {state}  last used {used}")
