"""Customer profiles, their identifiers and consent."""

from __future__ import annotations

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
