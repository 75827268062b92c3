from django.urls import path

from apps.media.web import views

app_name = "media"

urlpatterns = [
    path("", views.index, name="index"),
]
