"""Site URLs: web UI per app, allauth login, the admin, and the API under /api/."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "SmartMkt administration"
admin.site.site_title = "SmartMkt admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("smartmkt.api_urls")),
    path("", include("apps.core.web.urls")),
    path("customers/", include("apps.customers.web.urls")),
    path("segments/", include("apps.segments.web.urls")),
    path("campaigns/", include("apps.campaigns.web.urls")),
    path("e/", include("apps.campaigns.web.tracking_urls")),
    path("recommendations/", include("apps.recommendations.web.urls")),
    path("insights/", include("apps.insights.web.urls")),
    path("media/", include("apps.media.web.urls")),
    path("forecasts/", include("apps.forecasts.web.urls")),
    path("data/imports/", include("apps.imports.web.urls")),
    path("data/quality/", include("apps.quality.web.urls")),
    path("data/", include("apps.events.web.urls")),
    path("models/", include("apps.ml.web.urls")),
    path("settings/", include("apps.accounts.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
