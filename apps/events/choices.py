from django.db import models


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view", "Page view"
    PRODUCT_VIEW = "product_view", "Product view"
    SEARCH = "search", "Search"
    ADD_TO_CART = "add_to_cart", "Add to cart"
    REMOVE_FROM_CART = "remove_from_cart", "Remove from cart"
    CHECKOUT = "checkout", "Checkout started"
    PURCHASE = "purchase", "Purchase"
    EMAIL_OPEN = "email_open", "Email open"
    EMAIL_CLICK = "email_click", "Email click"
    EMAIL_SENT = "email_sent", "Email sent"
    EMAIL_DELIVERED = "email_delivered", "Email delivered"
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", "Email unsubscribe"
    EMAIL_BOUNCE = "email_bounce", "Email bounce"
    EMAIL_COMPLAINT = "email_complaint", "Email spam complaint"
    IDENTIFY = "identify", "Identify"
    ALIAS = "alias", "Alias"
    CUSTOM = "custom", "Custom"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


# Orders that count as revenue.
REVENUE_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
# Orders that count as demand (forecasting): revenue orders and those still pending payment,
# which are most of the last days' orders; cancelled and refunded ones are not demand.
DEMAND_STATUSES = (*REVENUE_STATUSES, OrderStatus.PENDING)


class SalesChannel(models.TextChoices):
    WEB = "web", "Web shop"
    APP = "app", "Mobile app"
    MARKETPLACE = "marketplace", "Marketplace"
    STORE = "store", "Physical store"


class SocialPlatform(models.TextChoices):
    TWITTER = "twitter", "X / Twitter"
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    WEIBO = "weibo", "Weibo"
    XIAOHONGSHU = "xiaohongshu", "Xiaohongshu"
    TIKTOK = "tiktok", "TikTok"
    OTHER = "other", "Other"


class QuarantineKind(models.TextChoices):
    REJECTED = "rejected", "Rejected (invalid)"
    CONFLICT = "conflict", "Conflict (re-sent id, different payload)"
    MALFORMED = "malformed", "Malformed body (not JSON)"


class QuarantineStatus(models.TextChoices):
    OPEN = "open", "Open"
    REPLAYED = "replayed", "Replayed"
    DISCARDED = "discarded", "Discarded"
