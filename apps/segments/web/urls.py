"""Segments pages under /segments/. Other features of the app (clv, rfm, predict) add their
own web/<feature>_urls.py modules; the lead includes them at the end of this list."""

from django.urls import include, path

from apps.segments.web import views

app_name = "segments"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.builder_new, name="new"),
    path("new/static/", views.static_new, name="new_static"),
    path("preview/", views.preview, name="preview"),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.builder_edit, name="edit"),
    path("<int:segment_id>/history/", views.history, name="history"),
    path("<int:segment_id>/refresh/", views.refresh, name="refresh"),
    path("<int:segment_id>/delete/", views.delete, name="delete"),
    path("<int:segment_id>/upload/", views.upload, name="upload"),
    path("<int:segment_id>/export.csv", views.export, name="export"),
    path("<int:segment_id>/members/<str:external_id>/", views.member, name="member"),
    # The other features of the app, each with its own URL module (names `segments:rfm_...`).
    path("rfm/", include("apps.segments.web.rfm_urls")),
    path("clv/", include("apps.segments.web.clv_urls")),
    path("predictions/", include("apps.segments.web.predict_urls")),
]
