from django.urls import path

from apps.quality.web import views

app_name = "quality"

urlpatterns = [
    path("", views.quality_index, name="index"),
    path("runs/table", views.run_table, name="runs_partial"),
    path("runs/start", views.run_start, name="run_start"),
    path("duplicates/merge", views.duplicate_merge, name="duplicate_merge"),
    path("merges/<int:merge_id>/split", views.merge_split, name="merge_split"),
]
