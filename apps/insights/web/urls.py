from django.urls import path

from apps.insights.web import views

app_name = "insights"

urlpatterns = [
    path("", views.index, name="index"),
]
