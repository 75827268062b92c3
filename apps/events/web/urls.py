from django.urls import path

from apps.events.web import views

app_name = "events"

urlpatterns = [
    path("", views.index, name="index"),
]
