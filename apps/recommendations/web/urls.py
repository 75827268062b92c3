"""Recommendations pages, mounted at /recommendations/ (names reverse as `recommendations:...`)."""

from django.urls import path

from apps.recommendations.web import views

app_name = "recommendations"

urlpatterns = [
    path("", views.index, name="index"),
    path("train", views.train, name="train"),
    path("status", views.run_status, name="run_status"),
    path("placements/", views.placement_index, name="placement_index"),
    path("placements/new/", views.placement_create, name="placement_create"),
    path("placements/<slug:key>/edit/", views.placement_edit, name="placement_edit"),
    path("placements/<slug:key>/delete/", views.placement_delete, name="placement_delete"),
    path("placements/<slug:key>/try/", views.try_page, name="placement_try"),
    path("try/", views.try_page, name="try"),
    path("customers/search/", views.customer_search, name="customer_search"),
    path(
        "customers/<str:external_id>/preview/",
        views.customer_preview,
        name="customer_preview",
    ),
]
