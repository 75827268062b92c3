"""`manage.py create_admin --email E [--password P]`: a superuser in the admin role; prints the login."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.services import admin_user_upsert
from apps.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create or update a superuser in the admin role who signs in with the email. Without "
        "--password a new admin gets a generated password (printed); an existing one keeps theirs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="Login email of the admin.")
        parser.add_argument("--password", default="", help="Password to set (optional).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = admin_user_upsert(email=options["email"], password=options["password"])
        except DomainError as error:
            raise CommandError(error.message) from error
        action = "Created" if result.created else "Updated"
        if result.generated_password:
            password = result.generated_password
        elif options["password"]:
            password = options["password"]
        else:
            password = "(unchanged)"
        self.stdout.write(f"{action} admin {result.user.email}")
        self.stdout.write(f"Login: {result.user.email} / {password}")
