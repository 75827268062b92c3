from django.urls import path

from apps.insights.web import views

app_name = "insights"

urlpatterns = [
    path("", views.index, name="index"),
    path("try/", views.try_text, name="try"),
    path("jobs/", views.job_start, name="job_start"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("topics/", views.topics, name="topics"),
    path("texts/", views.texts, name="texts"),
    path("categories/", views.category_list, name="categories"),
    path("categories/new/", views.category_edit, name="category_new"),
    path("categories/<int:category_id>/", views.category_edit, name="category_edit"),
    path("products/", views.products, name="products"),
    path("products/<str:sku>/", views.product, name="product"),
    path("model/", views.model, name="model"),
]
