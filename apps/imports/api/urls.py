from django.urls import path

from apps.imports.api import views

urlpatterns = [
    path("imports", views.ImportListCreateView.as_view(), name="imports-list"),
    path("imports/<int:import_id>", views.ImportDetailView.as_view(), name="imports-detail"),
    path("imports/<int:import_id>/errors", views.ImportErrorsView.as_view(), name="imports-errors"),
    path("imports/<int:import_id>/resume", views.ImportResumeView.as_view(), name="imports-resume"),
]
