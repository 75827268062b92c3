from django.urls import path

from apps.events.api.ingest import (
    AliasView,
    BatchView,
    IdentifyView,
    PageView,
    ScreenView,
    TrackView,
)
from apps.events.api.quarantine import (
    QuarantineDetailView,
    QuarantineDiscardView,
    QuarantineListView,
    QuarantineReplayView,
)
from apps.events.api.tracking import PixelView
from apps.events.api.views import (
    CustomerEventListView,
    CustomerOrderListView,
    EventListView,
    OrderDetailView,
    OrderListView,
    ReviewListView,
    SocialPostListView,
)

urlpatterns = [
    path("batch", BatchView.as_view(), name="ingest-batch"),
    path("track", TrackView.as_view(), name="ingest-track"),
    path("identify", IdentifyView.as_view(), name="ingest-identify"),
    path("page", PageView.as_view(), name="ingest-page"),
    path("screen", ScreenView.as_view(), name="ingest-screen"),
    path("alias", AliasView.as_view(), name="ingest-alias"),
    path("pixel.gif", PixelView.as_view(), name="pixel"),
    path(
        "customers/<str:external_id>/orders",
        CustomerOrderListView.as_view(),
        name="customer-orders",
    ),
    path(
        "customers/<str:external_id>/events",
        CustomerEventListView.as_view(),
        name="customer-events",
    ),
    path("orders", OrderListView.as_view(), name="order-list"),
    path("orders/<str:external_id>", OrderDetailView.as_view(), name="order-detail"),
    path("events", EventListView.as_view(), name="event-list"),
    path("reviews", ReviewListView.as_view(), name="review-list"),
    path("social-posts", SocialPostListView.as_view(), name="social-post-list"),
    path("quarantine", QuarantineListView.as_view(), name="quarantine-list"),
    path("quarantine/<int:entry_id>", QuarantineDetailView.as_view(), name="quarantine-detail"),
    path(
        "quarantine/<int:entry_id>/replay",
        QuarantineReplayView.as_view(),
        name="quarantine-replay",
    ),
    path(
        "quarantine/<int:entry_id>/discard",
        QuarantineDiscardView.as_view(),
        name="quarantine-discard",
    ),
]
