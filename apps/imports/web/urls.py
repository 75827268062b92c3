from django.urls import path

from apps.imports.web import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("jobs/", views.job_table, name="jobs_partial"),
    path("upload/", views.upload, name="upload"),
    path("<int:job_id>/", views.detail, name="detail"),
    path("<int:job_id>/status/", views.status, name="status"),
    path("<int:job_id>/mapping/", views.mapping, name="mapping"),
    path("<int:job_id>/errors.csv", views.errors, name="errors"),
    path("<int:job_id>/discard/", views.discard, name="discard"),
    path("<int:job_id>/resume/", views.resume, name="resume"),
]
