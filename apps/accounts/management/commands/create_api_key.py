"""`manage.py create_api_key --name N --scopes a,b [--rate-limit N]`: prints the key on its last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.services import api_key_create
from apps.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create a scoped partner API key. The key is printed once, alone on the last line; "
        "only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Who or what uses this key.")
        parser.add_argument(
            "--scopes",
            required=True,
            help="Comma-separated scopes, e.g. events:write,customers:read.",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=None,
            help="Requests a minute for this key (default: the site default).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = api_key_create(
                name=options["name"],
                scopes=options["scopes"].split(","),
                rate_limit_per_minute=options["rate_limit"],
                actor_label="manage.py create_api_key",
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        api_key = created.api_key
        self.stdout.write(
            f"Created API key {api_key.name!r} (prefix {api_key.prefix}) with scopes "
            f"{', '.join(api_key.scopes)}. Store it now: it is not shown again."
        )
        self.stdout.write(created.raw_key)
