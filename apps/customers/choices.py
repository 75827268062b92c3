from django.db import models


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "", "Unknown"


class ConsentPurpose(models.TextChoices):
    EMAIL_MARKETING = "email_marketing", "Email marketing"
    SMS_MARKETING = "sms_marketing", "SMS marketing"
    PROFILING = "profiling", "Profiling and personalisation"


class AcquisitionChannel(models.TextChoices):
    ORGANIC = "organic", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    SOCIAL = "social", "Social media"
    EMAIL = "email", "Email"
    REFERRAL = "referral", "Referral"
    DIRECT = "direct", "Direct"
    AFFILIATE = "affiliate", "Affiliate"
    UNKNOWN = "", "Unknown"
