"""Public tracking addresses used in emails (/e/...)."""

from django.urls import path

from apps.campaigns.web import tracking

app_name = "tracking"

urlpatterns = [
    path("o/<str:token>/<str:signature>.gif", tracking.open_pixel, name="open"),
    path("c/<str:token>", tracking.click, name="click"),
    path("u/<str:token>/<str:signature>", tracking.unsubscribe, name="unsubscribe"),
    path("p/<str:token>/<str:signature>", tracking.preferences, name="preferences"),
]
