"""Customer lifetime value page, mounted at /segments/clv/ inside the segments namespace:
`path("clv/", include("apps.segments.web.clv_urls"))` in apps/segments/web/urls.py, so the
names reverse as `segments:clv_index` ..."""

from django.urls import path

from apps.segments.web import clv as views

urlpatterns = [
    path("", views.clv_index, name="clv_index"),
    path("refit", views.clv_refit, name="clv_refit"),
    path("store", views.clv_store, name="clv_store"),
    path("status", views.clv_run_status, name="clv_run_status"),
]
