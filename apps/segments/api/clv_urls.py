"""Customer lifetime value API, mounted under /api/v1/ by smartmkt/api_urls.py:
`path("v1/", include("apps.segments.api.clv_urls"))`."""

from django.urls import path

from apps.segments.api import clv as views

urlpatterns = [
    path("segments/clv", views.ClvOverviewView.as_view(), name="segments-clv"),
    path("segments/clv/fit", views.ClvFitView.as_view(), name="segments-clv-fit"),
]
