"""``qiyue keys generate|status|rotate``: the master keys that wrap the documents' data keys.

Rotation, step by step: ``qiyue keys generate`` prints a new ``id:key``; put it first in
``QIYUE_MASTER_KEY`` (or the key file), keeping the old keys after it, and restart;
``qiyue keys rotate`` re-wraps every data key under the new key; when ``qiyue keys status``
shows no blob left under an old key, remove that key from the list.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.documents import blobs
from qiyue.lib.crypto import DecryptionError, Keyring, KeyringError


class Command(BaseCommand):
    help = "Generate master keys, show which keys are in use, re-wrap data keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        generate = sub.add_parser("generate", help="print a new master key as id:key")
        generate.add_argument("--id", dest="key_id", default=None, help="key id (default: hash)")
        sub.add_parser("status", help="keys in the keyring and blobs per key")
        rotate = sub.add_parser("rotate", help="re-wrap every data key under the current key")
        rotate.add_argument(
            "--key-id", default=None, help="wrap under this key of the keyring instead"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        verb = opts["verb"]
        if verb == "generate":
            try:
                spec = Keyring.generate_spec(opts["key_id"])
                Keyring.parse(spec)
            except KeyringError as exc:
                raise CommandError(str(exc)) from None
            self.stderr.write("New master key; put it first in QIYUE_MASTER_KEY, keep the old:")
            self.stdout.write(spec)
        elif verb == "status":
            keyring = blobs._keyring()
            usage = blobs.key_usage()
            for key_id in keyring.keys:
                mark = " (current)" if key_id == keyring.current else ""
                self.stdout.write(f"{key_id}{mark}: {usage.get(key_id, 0)} blobs")
            unknown = sorted(set(usage) - set(keyring.keys))
            for key_id in unknown:
                self.stdout.write(f"{key_id} (NOT IN KEYRING): {usage[key_id]} blobs")
            if unknown:
                raise CommandError("some blobs are wrapped by keys missing from the keyring")
        else:
            try:
                count = blobs.rotate_keys(new_key_id=opts["key_id"])
            except (KeyringError, DecryptionError) as exc:
                raise CommandError(str(exc)) from None
            target = opts["key_id"] or blobs._keyring().current
            self.stdout.write(f"re-wrapped {count} data keys under master key {target}")
