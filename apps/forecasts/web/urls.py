from django.urls import path

from apps.forecasts.web import views

app_name = "forecasts"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/", views.run_start, name="run-start"),
    path("runs/latest/", views.run_status, name="run-status"),
    path("s/<str:key>/", views.series_detail, name="series"),
    path("s/<str:key>/whatif/", views.whatif, name="whatif"),
]
