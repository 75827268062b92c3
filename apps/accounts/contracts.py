"""What other apps may use of accounts: the audit actions they record through its services."""

from apps.accounts.choices import AuditAction

__all__ = ["AuditAction"]
