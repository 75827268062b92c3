from django.urls import path

from apps.recommendations.web import views

app_name = "recommendations"

urlpatterns = [
    path("", views.index, name="index"),
]
