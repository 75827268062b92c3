"""Forecasts API routes, included under `v1/` in smartmkt/api_urls.py."""

from django.urls import path

from apps.forecasts.api import views

urlpatterns = [
    path("forecasts", views.SeriesListView.as_view(), name="forecasts-list"),
    path("forecasts/runs", views.RunListView.as_view(), name="forecasts-runs"),
    path("forecasts/runs/<int:run_id>", views.RunDetailView.as_view(), name="forecasts-run"),
    path(
        "forecasts/stock-alerts", views.StockAlertListView.as_view(), name="forecasts-stock-alerts"
    ),
    path("forecasts/<str:series>", views.SeriesDetailView.as_view(), name="forecasts-series"),
    path("forecasts/<str:series>/whatif", views.WhatIfView.as_view(), name="forecasts-whatif"),
]
