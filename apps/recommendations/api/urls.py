"""Recommendations API routes, mounted under /api/v1/ by smartmkt/api_urls.py.

The fixed paths come before `recommendations/<external_id>`: a customer whose external id is
`feedback`, `stats`, `models` or `placements` is reached as an alias or not at all.
"""

from django.urls import path

from apps.recommendations.api import views

urlpatterns = [
    path(
        "recommendations/feedback",
        views.FeedbackView.as_view(),
        name="recommendations-feedback",
    ),
    path("recommendations/stats", views.StatsView.as_view(), name="recommendations-stats"),
    path("recommendations/models", views.ModelsView.as_view(), name="recommendations-models"),
    path(
        "recommendations/placements",
        views.PlacementListView.as_view(),
        name="recommendations-placements",
    ),
    path(
        "recommendations/placements/<slug:key>",
        views.PlacementDetailView.as_view(),
        name="recommendations-placement",
    ),
    path(
        "recommendations/<str:external_id>",
        views.RecommendationsView.as_view(),
        name="recommendations-for-customer",
    ),
    path(
        "products/<str:sku>/similar",
        views.SimilarProductsView.as_view(),
        name="products-similar",
    ),
]
