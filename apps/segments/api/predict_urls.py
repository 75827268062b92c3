"""Predictions API, mounted under /api/v1/ by smartmkt/api_urls.py."""

from django.urls import path

from apps.segments.api import predict

urlpatterns = [
    path("segments/predictions", predict.PredictionListView.as_view(), name="segments-predictions"),
    path(
        "segments/predictions/<str:kind>/train",
        predict.PredictionTrainView.as_view(),
        name="segments-prediction-train",
    ),
]
