"""Scopes of partner API keys and the roles of UI users."""

from django.db import models


class Scope(models.TextChoices):
    """What a partner key may do. Each API operation names exactly one of these."""

    EVENTS_WRITE = "events:write", "Send events"
    EVENTS_READ = "events:read", "Read events and orders"
    IMPORTS_WRITE = "imports:write", "Upload data imports"
    QUARANTINE_WRITE = "quarantine:write", "Replay or discard quarantined messages"
    CONTENT_WRITE = "content:write", "Send reviews and social posts (intake webhooks)"
    QUALITY_WRITE = "quality:write", "Start data cleaning runs"
    IMPORTS_READ = "imports:read", "Read import jobs and their error files"
    CUSTOMERS_READ = "customers:read", "Read customers"
    CUSTOMERS_WRITE = "customers:write", "Create and update customers"
    CATALOG_READ = "catalog:read", "Read the catalog"
    CATALOG_WRITE = "catalog:write", "Create and update products"
    RECOMMENDATIONS_READ = "recommendations:read", "Read recommendations"
    RECOMMENDATIONS_WRITE = "recommendations:write", "Manage recommendation placements"
    CAMPAIGNS_READ = "campaigns:read", "Read campaigns"
    CAMPAIGNS_WRITE = "campaigns:write", "Create and send campaigns"
    SEGMENTS_READ = "segments:read", "Read segments"
    SEGMENTS_WRITE = "segments:write", "Create and update segments"
    INSIGHTS_READ = "insights:read", "Read text insights"
    INSIGHTS_WRITE = "insights:write", "Manage text categories, alerts and analysis jobs"
    FORECASTS_READ = "forecasts:read", "Read forecasts and run what-if scenarios"
    FORECASTS_WRITE = "forecasts:write", "Start forecast refreshes"
    ML_READ = "ml:read", "Read training runs and models"
    ML_RUN = "ml:run", "Start training runs"


READ_SCOPES = frozenset(scope.value for scope in Scope if scope.value.endswith(":read"))
ALL_SCOPES = frozenset(scope.value for scope in Scope)


class Role(models.TextChoices):
    """UI roles, stored as Django groups of the same name."""

    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    ANALYST = "analyst", "Analyst (read-only)"


# Which API scopes a signed-in user of each role holds for session-authenticated API calls.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.ADMIN.value: ALL_SCOPES,
    Role.MARKETER.value: ALL_SCOPES,
    Role.ANALYST.value: READ_SCOPES,
}


class AuditAction(models.TextChoices):
    API_KEY_CREATED = "api_key.created", "API key created"
    API_KEY_REVOKED = "api_key.revoked", "API key revoked"
    ADMIN_UPSERTED = "accounts.admin_upserted", "Admin login created or updated"
    TRAINING_STARTED = "ml.run_started", "Training run started"
    MODEL_ACTIVATED = "ml.model_activated", "Model version made champion by hand"
    DEMO_DATA_GENERATED = "core.demo_generated", "Demo data generated"
    CUSTOMERS_MERGED = "customers.merged", "Customers merged"
    CUSTOMERS_SPLIT = "customers.split", "Customer merge split back"
    CLEANING_STARTED = "quality.cleaning_started", "Cleaning run started"
    SEGMENT_CREATED = "segments.created", "Segment created"
    SEGMENT_UPDATED = "segments.updated", "Segment updated"
    SEGMENT_DELETED = "segments.deleted", "Segment deleted"
