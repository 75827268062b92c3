from django.urls import path

from apps.ml.api import views

urlpatterns = [
    path("runs", views.TrainingRunListCreateView.as_view(), name="ml-runs"),
    path("runs/<int:run_id>", views.TrainingRunDetailView.as_view(), name="ml-run-detail"),
    path("runs/<int:run_id>/rerun", views.TrainingRunRerunView.as_view(), name="ml-run-rerun"),
    path("models", views.ModelVersionListView.as_view(), name="ml-models"),
    path(
        "models/<int:model_version_id>/activate",
        views.ModelVersionActivateView.as_view(),
        name="ml-model-activate",
    ),
    path("kinds", views.KindListView.as_view(), name="ml-kinds"),
]
