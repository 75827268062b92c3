from django.urls import path

from apps.segments.web import views

app_name = "segments"

urlpatterns = [
    path("", views.index, name="index"),
]
