"""Data quality API, mounted under /api/v1/ by smartmkt/api_urls.py."""

from django.urls import path

from apps.quality.api import views

urlpatterns = [
    path("quality/reports", views.QualityReportListView.as_view(), name="quality-reports"),
    path(
        "quality/reports/<str:entity>",
        views.QualityReportDetailView.as_view(),
        name="quality-report-detail",
    ),
    path("quality/runs", views.CleaningRunListCreateView.as_view(), name="quality-runs"),
    path(
        "quality/runs/<int:run_id>",
        views.CleaningRunDetailView.as_view(),
        name="quality-run-detail",
    ),
    path("quality/duplicates", views.DuplicateListView.as_view(), name="quality-duplicates"),
    path("quality/merges", views.MergeListCreateView.as_view(), name="quality-merges"),
    path(
        "quality/merges/<int:merge_id>/split",
        views.MergeSplitView.as_view(),
        name="quality-merge-split",
    ),
]
