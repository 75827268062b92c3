"""Campaigns API: create, change, launch, pause, resume and cancel campaigns; preview and test
send; the report. Thin views over apps.campaigns services and selectors."""

from __future__ import annotations

import dataclasses
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.campaigns import selectors, services
from apps.campaigns.api import serializers as shapes
from apps.campaigns.models import Campaign, Journey
from apps.campaigns.services import journeys
from apps.campaigns.services.coupons import coupon_offer, coupon_program_create, program_get
from apps.campaigns.services.feedback import email_feedback_record
from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.core.errors import NotFound
from apps.customers.selectors import customer_get

READ = "campaigns:read"
WRITE = "campaigns:write"
CAMPAIGN_ID = OpenApiParameter(
    "campaign_id", int, OpenApiParameter.PATH, description="Campaign id."
)
LISTS = ("segment_ids", "excluded_segment_ids", "variants")


def _campaign(campaign_id: int) -> Campaign:
    return selectors.campaign_get(campaign_id=campaign_id)


def _split(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    lists = {name: values.pop(name) for name in LISTS if name in values}
    if "variants" in lists:
        lists["variants"] = [dict(variant) for variant in lists["variants"]]
    return values, lists


def _variant(campaign: Campaign, key: str) -> Any:
    if not key:
        return None
    variant = campaign.variants.filter(key=key).first()
    if variant is None:
        raise NotFound(f"variant {key!r} does not exist", code="variant_not_found")
    return variant


class CampaignListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    serializer_class = shapes.CampaignSerializer
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="campaigns_list",
        summary="List campaigns",
        parameters=[shapes.CampaignListQuerySerializer],
        responses=OpenApiResponse(shapes.CampaignSerializer(many=True)),
    )
    def get(self, request: Request) -> Response:
        """Campaigns, newest first."""
        query = shapes.CampaignListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.list_response(selectors.campaign_list(**query.validated_data))

    @extend_schema(
        operation_id="campaigns_create",
        summary="Create a campaign (draft)",
        request=shapes.CampaignWriteSerializer,
        responses={201: shapes.CampaignSerializer},
    )
    def post(self, request: Request) -> Response:
        """A draft campaign; `name` is required. Without `html_body` it gets the default
        template (greeting, recommendations block, unsubscribe links)."""
        body = shapes.CampaignWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values, lists = _split(dict(body.validated_data))
        variants = lists.pop("variants", None)
        campaign = services.campaign_create(
            name=values.pop("name", ""), owner=request.user, **lists, **values
        )
        if variants:
            campaign = services.campaign_update(
                campaign=campaign, changes={}, variants=variants, actor=request.user
            )
        return Response(shapes.CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailView(ScopedAPIView):
    required_scopes = {"GET": READ, "PATCH": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="campaigns_get",
        summary="A campaign",
        parameters=[CAMPAIGN_ID],
        responses=shapes.CampaignSerializer,
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        return Response(shapes.CampaignSerializer(_campaign(campaign_id)).data)

    @extend_schema(
        operation_id="campaigns_update",
        summary="Change a campaign",
        parameters=[CAMPAIGN_ID],
        request=shapes.CampaignWriteSerializer,
        responses=shapes.CampaignSerializer,
    )
    def patch(self, request: Request, campaign_id: int) -> Response:
        """Change a draft, scheduled or paused campaign (the audience and variants only until
        it is planned). Lists given replace the current ones."""
        body = shapes.CampaignWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        values, lists = _split(dict(body.validated_data))
        campaign = services.campaign_update(
            campaign=_campaign(campaign_id), changes=values, actor=request.user, **lists
        )
        return Response(shapes.CampaignSerializer(campaign).data)


class CampaignActionView(ScopedAPIView):
    """POST /campaigns/{id}/{launch|pause|resume|cancel}."""

    required_scopes = {"POST": WRITE}
    parser_classes = [JSONParser]
    action = ""

    @extend_schema(
        parameters=[CAMPAIGN_ID],
        request=shapes.LaunchSerializer,
        responses=shapes.CampaignSerializer,
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """launch: validate and send now (or at `at`); pause: stop after the current message;
        resume: go on; cancel: stop for good."""
        campaign = _campaign(campaign_id)
        if self.action == "launch":
            body = shapes.LaunchSerializer(data=request.data or {})
            body.is_valid(raise_exception=True)
            campaign = services.campaign_launch(
                campaign=campaign, at=body.validated_data["at"], actor=request.user
            )
        elif self.action == "pause":
            campaign = services.campaign_pause(campaign=campaign, actor=request.user)
        elif self.action == "resume":
            campaign = services.campaign_resume(campaign=campaign, actor=request.user)
        else:
            campaign = services.campaign_cancel(campaign=campaign, actor=request.user)
        return Response(shapes.CampaignSerializer(campaign).data)


class CampaignPreviewView(ScopedAPIView):
    required_scopes = {"POST": READ}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="campaigns_preview",
        summary="Render a campaign as a customer would get it",
        parameters=[CAMPAIGN_ID],
        request=shapes.PreviewSerializer,
        responses=shapes.RenderedSerializer,
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Subject, HTML and text for `customer_id` (or with empty personalisation); links
        untracked, nothing logged. A template error is a 400 naming the field."""
        body = shapes.PreviewSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        campaign = _campaign(campaign_id)
        values = body.validated_data
        customer = (
            customer_get(external_id=values["customer_id"]) if values["customer_id"] else None
        )
        rendered = services.message_preview(
            campaign=campaign, customer=customer, variant=_variant(campaign, values["variant"])
        )
        return Response(dataclasses.asdict(rendered))


class CampaignTestSendView(ScopedAPIView):
    required_scopes = {"POST": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="campaigns_test_send",
        summary="Send a test email",
        parameters=[CAMPAIGN_ID],
        request=shapes.TestSendSerializer,
        responses={202: None},
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Send the campaign as `customer_id` would get it to `to`, subject marked [Test]."""
        body = shapes.TestSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        customer = (
            customer_get(external_id=values["customer_id"]) if values["customer_id"] else None
        )
        services.campaign_test_send(
            campaign=_campaign(campaign_id), to=values["to"], customer=customer
        )
        return Response({"sent_to": values["to"]}, status=status.HTTP_202_ACCEPTED)


class CampaignReportView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="campaigns_report",
        summary="The campaign report",
        parameters=[CAMPAIGN_ID],
        responses=shapes.ReportSerializer,
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        """Funnel, variants and holdout with conversions and revenue in the attribution window,
        A/B/n and holdout tests (frequentist, relative lift, 95% CI), attribution (last touch,
        linear, time decay), incremental conversions and revenue, ROI."""
        report = selectors.campaign_report(campaign=_campaign(campaign_id))
        data = dataclasses.asdict(report)
        data["funnel"]["revenue"] = float(report.funnel.revenue)
        return Response(data)


class CouponProgramListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    serializer_class = shapes.CouponProgramSerializer
    parser_classes = [JSONParser]

    @extend_schema(operation_id="coupon_programs_list", summary="List coupon programs")
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.coupon_program_list())

    @extend_schema(
        operation_id="coupon_programs_create",
        summary="Create a coupon program",
        request=shapes.CouponProgramSerializer,
        responses={201: shapes.CouponProgramSerializer},
    )
    def post(self, request: Request) -> Response:
        """Codes per customer (or one shared code), value, validity, caps, and targeting:
        everyone, or the persuadable (propensity between two bounds, CLV floor), with a
        holdout for the uplift."""
        body = shapes.CouponProgramSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        program = coupon_program_create(**body.validated_data)
        return Response(
            shapes.CouponProgramSerializer(program).data, status=status.HTTP_201_CREATED
        )


class CouponProgramReportView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="coupon_programs_report",
        summary="A coupon program's report",
        responses=shapes.CouponReportSerializer,
    )
    def get(self, request: Request, key: str) -> Response:
        """Issued, held out, redeemed, discount total, and the uplift: conversion of customers
        given a code against the holdout within the codes' validity."""
        report = selectors.coupon_program_report(program=program_get(key=key))
        return Response(dataclasses.asdict(report))


class CouponIssueView(ScopedAPIView):
    required_scopes = {"POST": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="coupon_programs_issue",
        summary="Issue (or look up) a customer's code",
        request=shapes.IssueSerializer,
        responses=shapes.OfferSerializer,
    )
    def post(self, request: Request, key: str) -> Response:
        """The customer's code, issued once; `code` null when the program does not target
        them, holds them out, or is over."""
        body = shapes.IssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = customer_get(external_id=body.validated_data["customer_id"])
        offer = coupon_offer(program=program_get(key=key), customer_id=customer.pk)
        if offer is None:
            return Response({"code": None, "label": None, "expires_at": None})
        return Response({"code": offer.code, "label": offer.label, "expires_at": offer.expires_at})


class EmailFeedbackView(ScopedAPIView):
    required_scopes = {"POST": "events:write"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="email_feedback",
        summary="Bounces, complaints and deliveries from the mail provider",
        request=shapes.FeedbackSerializer,
        responses=shapes.FeedbackResultSerializer,
    )
    def post(self, request: Request) -> Response:
        """Point the provider's webhook here (with a key holding events:write). Each item:
        `type` delivered|bounce|complaint, `message_id` (our Message-ID header), optional
        `bounce_type` hard|soft, `reason`, `timestamp`. Hard bounces and complaints go on the
        suppression list; a campaign passing its bounce or complaint threshold pauses."""
        events = request.data.get("events") if isinstance(request.data, dict) else None
        result = email_feedback_record(items=events)  # type: ignore[arg-type]
        return Response(dataclasses.asdict(result))


JOURNEY_ID = OpenApiParameter("journey_id", int, OpenApiParameter.PATH, description="Journey id.")


def _journey_document(journey: Any, *, counts: bool = False) -> dict[str, Any]:
    document = {
        name: getattr(journey, name)
        for name in (
            "id", "name", "description", "template", "status", "trigger", "trigger_config",
            "goal_event", "reentry_days", "steps",
        )
    }  # fmt: skip
    if counts:
        document["states"] = journeys.journey_state_counts(journey=journey)
        document["step_counts"] = journeys.journey_step_counts(journey=journey)
    return document


def _journey_get(journey_id: int) -> Any:
    journey = Journey.objects.filter(pk=journey_id).first()
    if journey is None:
        raise NotFound(f"journey {journey_id} does not exist", code="journey_not_found")
    return journey


class JourneyListCreateView(ScopedAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="journeys_list", summary="List journeys",
        responses=shapes.JourneySerializer(many=True),
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response([_journey_document(journey) for journey in Journey.objects.all()])

    @extend_schema(
        operation_id="journeys_create",
        summary="Create a journey (draft), from a template or from scratch",
        request=shapes.JourneyWriteSerializer,
        responses={201: shapes.JourneySerializer},
    )
    def post(self, request: Request) -> Response:
        """Templates: welcome, abandoned_cart, browse_abandonment, post_purchase, win_back,
        birthday (fields given override the template's). Steps are checked at once; a bad
        graph is a 400 naming every problem by path (`steps[2].next: ...`)."""
        body = shapes.JourneyWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        journey = journeys.journey_create(**body.validated_data, actor=request.user)
        return Response(_journey_document(journey, counts=True), status=status.HTTP_201_CREATED)


class JourneyDetailView(ScopedAPIView):
    required_scopes = {"GET": READ, "PATCH": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="journeys_get", summary="A journey with its per-step counts",
        parameters=[JOURNEY_ID], responses=shapes.JourneySerializer,
    )  # fmt: skip
    def get(self, request: Request, journey_id: int) -> Response:
        return Response(_journey_document(_journey_get(journey_id), counts=True))

    @extend_schema(
        operation_id="journeys_update", summary="Change a draft or paused journey",
        parameters=[JOURNEY_ID], request=shapes.JourneyWriteSerializer,
        responses=shapes.JourneySerializer,
    )  # fmt: skip
    def patch(self, request: Request, journey_id: int) -> Response:
        body = shapes.JourneyWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = {k: v for k, v in body.validated_data.items() if k != "template"}
        journey = journeys.journey_update(
            journey=_journey_get(journey_id), changes=changes, actor=request.user
        )
        return Response(_journey_document(journey, counts=True))


class JourneyActionView(ScopedAPIView):
    """POST /journeys/{id}/{activate|pause|archive}."""

    required_scopes = {"POST": WRITE}
    action = ""

    @extend_schema(parameters=[JOURNEY_ID], request=None, responses=shapes.JourneySerializer)
    def post(self, request: Request, journey_id: int) -> Response:
        """activate: check the content and start enrolling; pause: nobody enters or moves on;
        archive: stop for good, everyone in it leaves."""
        call = {
            "activate": journeys.journey_activate,
            "pause": journeys.journey_pause,
            "archive": journeys.journey_archive,
        }[self.action]
        journey = call(journey=_journey_get(journey_id), actor=request.user)
        return Response(_journey_document(journey, counts=True))
