"""REST API v1: one include per app. Partners authenticate with `Authorization: Bearer <key>`."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("v1/", include("apps.core.api.urls")),
    # the hottest read path first: each request tries the includes in order
    path("v1/", include("apps.recommendations.api.urls")),
    path("v1/", include("apps.accounts.api.urls")),
    path("v1/", include("apps.customers.api.urls")),
    path("v1/", include("apps.catalog.api.urls")),
    path("v1/", include("apps.events.api.urls")),
    path("v1/", include("apps.quality.api.urls")),
    path("v1/", include("apps.imports.api.urls")),
    path("v1/", include("apps.segments.api.urls")),
    path("v1/", include("apps.segments.api.clv_urls")),
    path("v1/", include("apps.segments.api.rfm_urls")),
    path("v1/", include("apps.segments.api.predict_urls")),
    path("v1/", include("apps.campaigns.api.urls")),
    path("v1/", include("apps.insights.api.urls")),
    path("v1/", include("apps.forecasts.api.urls")),
    path("v1/ml/", include("apps.ml.api.urls")),
]
