from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (SMS / push provider)"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent (accepted by the mail server)"
    SKIPPED = "skipped", "Skipped by a guard"
    HOLDOUT = "holdout", "Held out (control group gets nothing)"
    FAILED = "failed", "Failed (refused by the mail server)"


class SkipReason(models.TextChoices):
    NO_EMAIL = "no_email", "No email address"
    CONSENT = "consent", "No email-marketing consent"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    SUPPRESSED = "suppressed", "On the suppression list (bounce or complaint)"
    FREQUENCY_CAP = "frequency_cap", "Frequency cap reached"
    CUSTOMER_DELETED = "customer_deleted", "Customer deleted before sending"


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    MANUAL = "manual", "Added by hand"


class Recurrence(models.TextChoices):
    NONE = "", "Once"
    DAILY = "daily", "Every day"
    WEEKLY = "weekly", "Every week"


class DiscountType(models.TextChoices):
    PERCENT = "percent", "Percent off"
    AMOUNT = "amount", "Amount off"


class CouponTarget(models.TextChoices):
    EVERYONE = "everyone", "Everyone in the email"
    PERSUADABLE = "persuadable", "Persuadable only (not sure buyers, not lost causes)"
