"""Segments API routes. The lead includes this module under `v1/` in smartmkt/api_urls.py;
other features of the app (clv, rfm, predict) add their own api/<feature>_urls.py modules."""

from django.urls import path

from apps.segments.api import views

urlpatterns = [
    path("segments", views.SegmentListCreateView.as_view(), name="segments-list"),
    path("segments/preview", views.SegmentPreviewView.as_view(), name="segments-preview"),
    path("segments/<int:segment_id>", views.SegmentDetailView.as_view(), name="segments-detail"),
    path(
        "segments/<int:segment_id>/members",
        views.SegmentMembersView.as_view(),
        name="segments-members",
    ),
    path(
        "segments/<int:segment_id>/members/<str:external_id>",
        views.SegmentExplainView.as_view(),
        name="segments-explain",
    ),
    path(
        "segments/<int:segment_id>/history",
        views.SegmentHistoryView.as_view(),
        name="segments-history",
    ),
    path(
        "segments/<int:segment_id>/sizes", views.SegmentSizesView.as_view(), name="segments-sizes"
    ),
    path(
        "segments/<int:segment_id>/refresh",
        views.SegmentRefreshView.as_view(),
        name="segments-refresh",
    ),
    path(
        "segments/<int:segment_id>/export",
        views.SegmentExportView.as_view(),
        name="segments-export",
    ),
    path(
        "segments/<int:segment_id>/upload",
        views.SegmentUploadView.as_view(),
        name="segments-upload",
    ),
]
