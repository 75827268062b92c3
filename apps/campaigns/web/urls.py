from django.urls import path

from apps.campaigns.web import coupons, journeys, optimise, views

app_name = "campaigns"

urlpatterns = [
    path("", views.index, name="index"),
    path("new", views.create, name="create"),
    path("journeys/", journeys.index, name="journeys"),
    path("journeys/new", journeys.create, name="journey_create"),
    path("journeys/<int:journey_id>/", journeys.detail, name="journey_detail"),
    path("journeys/<int:journey_id>/edit", journeys.edit, name="journey_edit"),
    path("journeys/<int:journey_id>/steps/new", journeys.step_new, name="journey_step_new"),
    path(
        "journeys/<int:journey_id>/steps/<str:step_id>/delete",
        journeys.step_delete,
        name="journey_step_delete",
    ),
    path(
        "journeys/<int:journey_id>/steps/<str:step_id>",
        journeys.step_edit,
        name="journey_step_edit",
    ),
    path("journeys/<int:journey_id>/<str:verb>", journeys.action, name="journey_action"),
    path("coupons/", coupons.index, name="coupons"),
    path("optimise/", optimise.index, name="optimise"),
    path("coupons/new", coupons.create, name="coupon_create"),
    path("coupons/<slug:key>/", coupons.detail, name="coupon_detail"),
    path("<int:campaign_id>/", views.detail, name="detail"),
    path("<int:campaign_id>/edit", views.edit, name="edit"),
    path("<int:campaign_id>/test-send", views.test_send, name="test_send"),
    path("<int:campaign_id>/<str:verb>", views.action, name="action"),
]
