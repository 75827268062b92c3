from django.urls import path

from apps.ml.web import views

app_name = "ml"

urlpatterns = [
    path("", views.model_index, name="index"),
    path("runs/table", views.run_table, name="runs_partial"),
    path("runs/start", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/rerun", views.run_rerun, name="run_rerun"),
    path(
        "versions/<int:model_version_id>/activate",
        views.model_version_activate,
        name="model_version_activate",
    ),
]
