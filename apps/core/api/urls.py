from django.urls import path

from apps.core.api.views_ping import PingView

urlpatterns = [
    path("ping", PingView.as_view(), name="ping"),
]
