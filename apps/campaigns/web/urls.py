from django.urls import path

from apps.campaigns.web import views

app_name = "campaigns"

urlpatterns = [
    path("", views.index, name="index"),
]
