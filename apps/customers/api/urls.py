from django.urls import path

from apps.customers.api.views import CustomerConsentView, CustomerDetailView, CustomerListView

urlpatterns = [
    path("customers", CustomerListView.as_view(), name="customer-list"),
    path("customers/<str:external_id>", CustomerDetailView.as_view(), name="customer-detail"),
    path(
        "customers/<str:external_id>/consents",
        CustomerConsentView.as_view(),
        name="customer-consents",
    ),
]
