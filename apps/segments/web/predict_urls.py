"""Predictions pages; mounted by apps/segments/web/urls.py at /segments/predictions/
(namespace "segments", so names read `segments:predict_index` ...)."""

from django.urls import path

from apps.segments.web import predict

urlpatterns = [
    path("", predict.predictions_index, name="predict_index"),
    path("<str:kind>/run", predict.prediction_run, name="predict_run"),
    path("<str:kind>/train", predict.prediction_train, name="predict_train"),
]
