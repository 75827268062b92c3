from django.urls import path

from apps.core.web import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
