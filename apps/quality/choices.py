"""Choices of the data quality app: entities, triggers, run states and cleaning rules."""

from django.db import models


class Entity(models.TextChoices):
    """What the pipeline reports on. Customers, products (with categories) and orders are also
    cleaned; events, reviews and social posts are reported on only (completeness, freshness)."""

    CUSTOMERS = "customers", "Customers"
    PRODUCTS = "products", "Products"
    ORDERS = "orders", "Orders"
    EVENTS = "events", "Events"
    REVIEWS = "reviews", "Reviews"
    SOCIAL = "social", "Social posts"


CLEANED_ENTITIES = (Entity.CUSTOMERS, Entity.PRODUCTS, Entity.ORDERS)


class CleaningTrigger(models.TextChoices):
    """Why a cleaning run started."""

    IMPORT = "import", "Import"
    INGEST = "ingest", "Events ingestion"
    MANUAL = "manual", "Manual"
    SCHEDULE = "schedule", "Schedule"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


class ChangeAction(models.TextChoices):
    """What a recorded rule did to the rows it names."""

    UPDATED = "updated", "Values rewritten (normalised or derived)"
    IMPUTED = "imputed", "Missing values filled (marked as imputed)"
    FLAGGED = "flagged", "Rows flagged, values kept"
    MERGED = "merged", "Duplicate profiles merged (can be split back)"
    REPORTED = "reported", "Found and reported, nothing changed"


class CleaningRule(models.TextChoices):
    """Every rule the pipeline applies; docs/data_quality.md explains each one."""

    EMAIL_NORMALISE = "email_normalise", "Email trimmed and lower-cased"
    PHONE_E164 = "phone_e164", "Phone number in E.164"
    COUNTRY_ISO2 = "country_iso2", "Country as ISO 3166-1 alpha-2"
    COUNTRY_FROM_PHONE = "country_from_phone", "Missing country taken from the phone number"
    LANGUAGE_NORMALISE = "language_normalise", "Language code lower-cased"
    CURRENCY_ISO = "currency_iso", "Currency as ISO 4217"
    CATEGORY_NAME_NORMALISE = "category_name_normalise", "Category name tidied"
    TEXT_TRIM = "text_trim", "Text trimmed, inner whitespace collapsed"
    IMPUTE_MEDIAN = "impute_median", "Missing value filled with the median"
    IMPUTE_MODE = "impute_mode", "Missing value filled with the most common value"
    IMPUTE_GROUP_MODE = (
        "impute_group_mode",
        "Missing value filled with its group's most common value",
    )
    IMPUTE_GROUP_MEDIAN = "impute_group_median", "Missing value filled with its group's median"
    OUTLIER_FLAG = "outlier_flag", "Amount flagged as an outlier"
    NEGATIVE_AMOUNT_FLAG = "negative_amount_flag", "Negative amount flagged"
    TOTAL_MISMATCH_FLAG = "total_mismatch_flag", "Total does not add up, flagged"
    DUPLICATE_ORDER_FLAG = "duplicate_order_flag", "Probable duplicate order flagged"
    AGE_BAND = "age_band", "Age band from the birth date"
    PRICE_BAND = "price_band", "Price band from the price quartiles"
    DUPLICATE_EXACT = "duplicate_exact", "Exact duplicate profiles merged"
    DUPLICATE_NORMALISED_KEY = "duplicate_normalised_key", "Profiles sharing an email or phone"
    DUPLICATE_CATEGORY_NAME = "duplicate_category_name", "Categories with the same tidied name"
    IMPUTED_SUPERSEDED = "imputed_superseded", "Imputed value replaced by a real one since"
