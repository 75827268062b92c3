from django.urls import path

from apps.forecasts.web import views

app_name = "forecasts"

urlpatterns = [
    path("", views.index, name="index"),
]
