"""Campaigns API routes, included under `v1/` in smartmkt/api_urls.py."""

from django.urls import path

from apps.campaigns.api import views

urlpatterns = [
    path("campaigns", views.CampaignListCreateView.as_view(), name="campaigns-list"),
    path(
        "campaigns/<int:campaign_id>", views.CampaignDetailView.as_view(), name="campaigns-detail"
    ),
    *[
        path(
            f"campaigns/<int:campaign_id>/{action}",
            views.CampaignActionView.as_view(action=action),
            name=f"campaigns-{action}",
        )
        for action in ("launch", "pause", "resume", "cancel")
    ],
    path(
        "campaigns/<int:campaign_id>/preview",
        views.CampaignPreviewView.as_view(),
        name="campaigns-preview",
    ),
    path(
        "campaigns/<int:campaign_id>/test-send",
        views.CampaignTestSendView.as_view(),
        name="campaigns-test-send",
    ),
    path("journeys", views.JourneyListCreateView.as_view(), name="journeys-list"),
    path("journeys/<int:journey_id>", views.JourneyDetailView.as_view(), name="journeys-detail"),
    *[
        path(
            f"journeys/<int:journey_id>/{action}",
            views.JourneyActionView.as_view(action=action),
            name=f"journeys-{action}",
        )
        for action in ("activate", "pause", "archive")
    ],
    path("email/feedback", views.EmailFeedbackView.as_view(), name="email-feedback"),
    path("coupon-programs", views.CouponProgramListCreateView.as_view(), name="coupons-list"),
    path(
        "coupon-programs/<slug:key>/report",
        views.CouponProgramReportView.as_view(),
        name="coupons-report",
    ),
    path("coupon-programs/<slug:key>/issue", views.CouponIssueView.as_view(), name="coupons-issue"),
    path(
        "campaigns/<int:campaign_id>/report",
        views.CampaignReportView.as_view(),
        name="campaigns-report",
    ),
]
