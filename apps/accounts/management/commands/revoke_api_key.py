"""`manage.py revoke_api_key --prefix P`: every later request with that key gets 401."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.selectors import api_key_get_by_prefix
from apps.accounts.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke a partner API key by its prefix (the part after `smk_`, shown in the admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", required=True, help="Public prefix of the key.")

    def handle(self, *args: Any, **options: Any) -> None:
        api_key = api_key_get_by_prefix(prefix=options["prefix"])
        if api_key is None:
            raise CommandError(f"no API key has the prefix {options['prefix']!r}")
        already = api_key.revoked_at is not None
        api_key = api_key_revoke(api_key_id=api_key.pk)
        state = "was already revoked" if already else "revoked"
        self.stdout.write(f"API key {api_key.name!r} (prefix {api_key.prefix}) {state}.")
