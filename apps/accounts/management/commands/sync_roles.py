"""`manage.py sync_roles`: create or refresh the admin, marketer and analyst groups."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.accounts.services import roles_sync


class Command(BaseCommand):
    help = "Create the admin/marketer/analyst role groups with their permissions (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = roles_sync()
        for role, count in counts.items():
            self.stdout.write(f"{role}: {count} permissions")
