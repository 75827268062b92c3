from django.urls import path

from apps.customers.web import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_index, name="list"),
    path("<str:external_id>/", views.customer_detail, name="detail"),
]
