from django.urls import path

from apps.events.api.ingest import (
    AliasView,
    BatchView,
    IdentifyView,
    PageView,
    ScreenView,
    TrackView,
)
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
]
