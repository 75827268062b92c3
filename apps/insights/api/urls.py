"""Insights API routes, included under `v1/` in smartmkt/api_urls.py."""

from django.urls import path

from apps.insights.api import views

urlpatterns = [
    path("insights/analyze", views.AnalyzeView.as_view(), name="insights-analyze"),
    path("insights/texts", views.TextListView.as_view(), name="insights-texts"),
    path("insights/texts/<int:analysis_id>", views.TextDetailView.as_view(), name="insights-text"),
    path("insights/trend", views.TrendView.as_view(), name="insights-trend"),
    path("insights/topics", views.TopicsView.as_view(), name="insights-topics"),
    path("insights/keywords", views.KeywordsView.as_view(), name="insights-keywords"),
    path(
        "insights/products/<str:sku>", views.ProductInsightsView.as_view(), name="insights-product"
    ),
    path("insights/alerts", views.AlertListView.as_view(), name="insights-alerts"),
    path(
        "insights/alerts/<int:alert_id>/acknowledge",
        views.AlertAcknowledgeView.as_view(),
        name="insights-alert-acknowledge",
    ),
    path("insights/categories", views.CategoryListView.as_view(), name="insights-categories"),
    path(
        "insights/categories/<int:category_id>",
        views.CategoryDetailView.as_view(),
        name="insights-category",
    ),
    path("insights/jobs", views.JobListView.as_view(), name="insights-jobs"),
    path("insights/jobs/<int:job_id>", views.JobDetailView.as_view(), name="insights-job"),
]
