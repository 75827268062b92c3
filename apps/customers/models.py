"""Customer profiles, their identifiers and consent."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from apps.core.models import BaseModel
from apps.customers.choices import AcquisitionChannel, ConsentPurpose, Gender


class Customer(BaseModel):
    """One person the shop knows. `external_id` is the shop's id and the API's path key."""

    external_id = models.CharField(max_length=128, unique=True, help_text="The shop's customer id.")
    email = models.EmailField(blank=True, db_index=True, help_text="Normalised to lower case.")
    phone = models.CharField(max_length=32, blank=True, help_text="E.164 when known.")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    language = models.CharField(
        max_length=8, blank=True, help_text="Preferred language, e.g. en, zh."
    )
    signup_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Sign-up date."
    )
    acquisition_channel = models.CharField(
        max_length=20, choices=AcquisitionChannel.choices, blank=True
    )
    attributes = models.JSONField(default=dict, blank=True, help_text="Free-form traits.")
    age_band = models.CharField(
        max_length=8,
        blank=True,
        help_text="Age bracket for analysis (18-24, 25-34 ...), set by the cleaning pipeline.",
    )
    imputed_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Fields the cleaning pipeline filled in, with the value it used; analysis can "
        "leave them out. A marker goes once a real value arrives.",
    )

    class Meta:
        ordering = ["-signup_at", "-id"]
        indexes = [models.Index(fields=["country", "city"], name="customer_country_city")]

    def __str__(self) -> str:
        return self.full_name or self.email or self.external_id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class CustomerAlias(BaseModel):
    """Another id of the same customer: an anonymous/device id or a former external id."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=128, unique=True, help_text="Anonymous or other id.")
    kind = models.CharField(
        max_length=20,
        default="anonymous",
        help_text="anonymous (browser/device id) or external (a merged profile's id).",
    )

    def __str__(self) -> str:
        return f"{self.alias} -> {self.customer_id}"


class Consent(models.Model):
    """A consent decision. The latest row per (customer, purpose) is in force; none means no."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    granted = models.BooleanField(help_text="True grants, False withdraws.")
    recorded_at = models.DateTimeField(help_text="When the customer decided.")
    source = models.CharField(max_length=64, blank=True, help_text="signup_form, api, import ...")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "purpose", "-recorded_at"], name="consent_latest")
        ]

    def __str__(self) -> str:
        state = "granted" if self.granted else "withdrawn"
        return f"{self.customer_id} {self.purpose} {state} at {self.recorded_at:%Y-%m-%d}"


class MergeStatus(models.TextChoices):
    MERGED = "merged", "Merged"
    SPLIT = "split", "Split back"


class CustomerMerge(BaseModel):
    """One customer profile merged into another, with everything needed to undo it.

    The merged profile is deleted after its history moves to the survivor; `snapshot` keeps
    every field of it (its primary key too), `moved` the ids of every row that moved
    (orders, events, reviews, social posts, aliases, consents) and `survivor_before` the
    survivor's fields the merge filled in, so a split restores exactly the state before.
    """

    survivor = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merges_received",
        help_text="The profile that was kept; empty once it was itself merged away.",
    )
    survivor_external_id = models.CharField(
        max_length=128, db_index=True, help_text="External id of the profile that was kept."
    )
    merged_external_id = models.CharField(
        max_length=128,
        db_index=True,
        help_text="External id of the profile merged away; now an alias of the survivor.",
    )
    merged_customer_id = models.BigIntegerField(
        help_text="Primary key the merged profile had; a split gives it back."
    )
    snapshot = models.JSONField(
        encoder=DjangoJSONEncoder, help_text="Every field of the merged profile before the merge."
    )
    survivor_before = models.JSONField(
        encoder=DjangoJSONEncoder,
        default=dict,
        blank=True,
        help_text="Survivor fields the merge filled in from the merged profile, as they were.",
    )
    moved = models.JSONField(
        encoder=DjangoJSONEncoder,
        default=dict,
        help_text="Ids of the rows moved to the survivor, per kind (orders, events ...).",
    )
    reason = models.CharField(
        max_length=64, help_text="Why: admin, ui, api, cli, or the automatic rule's name."
    )
    status = models.CharField(
        max_length=8, choices=MergeStatus.choices, default=MergeStatus.MERGED, db_index=True
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="User who merged; empty for keys, commands and the pipeline.",
    )
    merged_label = models.CharField(
        max_length=200, blank=True, help_text="Key name, command or job that merged."
    )
    split_at = models.DateTimeField(null=True, blank=True)
    split_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="User who split it back.",
    )
    split_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_external_id} -> {self.survivor_external_id} ({self.status})"
