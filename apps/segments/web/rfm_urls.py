"""RFM & lifecycle and Clusters pages, mounted at /segments/rfm/ inside the segments namespace:
`path("rfm/", include("apps.segments.web.rfm_urls"))` in apps/segments/web/urls.py, so the
names reverse as `segments:rfm_index` ..."""

from django.urls import path

from apps.segments.web import rfm as views

urlpatterns = [
    path("", views.rfm_index, name="rfm_index"),
    path("compute", views.rfm_compute, name="rfm_compute"),
    path("cells/<str:cell>/segment", views.rfm_cell_save, name="rfm_cell_save"),
    path("status/<str:kind>", views.rfm_run_status, name="rfm_run_status"),
    path("clusters/", views.clusters_index, name="rfm_clusters"),
    path("clusters/fit", views.clusters_fit, name="rfm_clusters_fit"),
    path("clusters/apply", views.clusters_apply, name="rfm_clusters_apply"),
    path("clusters/<int:cluster>/segment", views.cluster_save, name="rfm_cluster_save"),
]
