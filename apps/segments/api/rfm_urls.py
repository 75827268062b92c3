"""RFM, lifecycle and clusters API, mounted under /api/v1/ by smartmkt/api_urls.py."""

from django.urls import path

from apps.segments.api import rfm as views

urlpatterns = [
    path("segments/rfm", views.RfmOverviewView.as_view(), name="segments-rfm"),
    path("segments/rfm/runs", views.RfmRunView.as_view(), name="segments-rfm-runs"),
    path(
        "segments/rfm/cells/<str:cell>/segment",
        views.RfmCellSegmentView.as_view(),
        name="segments-rfm-cell-segment",
    ),
    path("segments/clusters", views.ClustersOverviewView.as_view(), name="segments-clusters"),
    path("segments/clusters/runs", views.ClustersRunView.as_view(), name="segments-clusters-runs"),
    path(
        "segments/clusters/<int:cluster>/segment",
        views.ClusterSegmentView.as_view(),
        name="segments-cluster-segment",
    ),
]
