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
    WAITING = "waiting", "Waiting for the test's winner"
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


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class JourneyTrigger(models.TextChoices):
    EVENT = "event", "An event"
    SIGNUP = "signup", "A new customer"
    SEGMENT_ENTRY = "segment_entry", "Entering a segment"
    SEGMENT_EXIT = "segment_exit", "Leaving a segment"
    DATE = "date", "A date attribute (e.g. birthday)"
    SCHEDULE = "schedule", "Every day, for a segment's members"


class EnrollmentState(models.TextChoices):
    ACTIVE = "active", "In the journey"
    COMPLETED = "completed", "Reached the end"
    GOAL = "goal", "Reached the goal"
    EXITED = "exited", "Left (exit step, or the journey was archived)"


class WinnerMetric(models.TextChoices):
    NONE = "", "No automatic winner"
    OPEN = "open", "Open rate"
    CLICK = "click", "Click rate"
    CONVERSION = "conversion", "Conversion rate"
