from django.urls import path

from apps.accounts.web import views

app_name = "accounts"

urlpatterns = [
    path("", views.index, name="index"),
]
