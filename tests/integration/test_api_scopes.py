"""Every operation under /api/v1/ declares a scope, and the scope is enforced.

The OpenAPI schema is generated in-process, so a new endpoint is checked the moment it is
routed: anonymous callers get 401, a key holding every scope but the operation's gets 403, and
a key holding exactly that scope gets through (any status but 401/403). An endpoint without a
declared scope fails here (and is refused at run time by HasScope).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.accounts.choices import ALL_SCOPES
from apps.accounts.tests.factories import ApiKeyFactory, UserFactory, bearer
from apps.campaigns.services import campaign_create
from apps.campaigns.services.coupons import coupon_program_create
from apps.campaigns.services.journeys import journey_create
from apps.catalog.tests.factories import ProductFactory
from apps.core.api.schema import SCOPE_EXTENSION
from apps.core.api.scopes import ANY_SCOPE
from apps.customers.tests.factories import CustomerFactory
from apps.events.services import quarantine_record_malformed
from apps.events.tests.factories import OrderFactory, OrderLineFactory, ReviewFactory
from apps.forecasts.tests.factories import ForecastFactory
from apps.imports.tests.factories import ImportJobFactory
from apps.insights.models import AnalysisJob, InsightAlert, TextCategory
from apps.insights.tests.factories import TextAnalysisFactory
from apps.ml.tests.factories import ModelVersionFactory, TrainingRunFactory
from apps.quality.services import cleaning_run, duplicate_group_merge
from apps.recommendations.services import placement_create
from apps.segments.services.segments import segment_create

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method.upper(), operation)
        for path, item in _schema()["paths"].items()
        if path.startswith(API_PREFIX)
        for method, operation in item.items()
        if method in METHODS
    ]


OPERATIONS = _operations()


@pytest.fixture
def path_values(settings: Any, tmp_path: Path) -> dict[tuple[str, str], str]:
    """(path prefix, parameter) -> the id of a row that exists, for every path parameter."""
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    customer = CustomerFactory(external_id="scope-customer")
    product = ProductFactory(sku="SCOPE-SKU")
    order = OrderFactory(external_id="scope-order", customer=customer)
    OrderLineFactory(order=order, product=product)
    run = TrainingRunFactory()
    version = ModelVersionFactory(training_run=run)
    quarantine_id = quarantine_record_malformed(
        raw_body=b'{"batch": [', error="body: not valid JSON", received_via="batch"
    )
    quality_run = cleaning_run(entities=["events"])
    CustomerFactory(external_id="scope-dup")
    merge = duplicate_group_merge(
        survivor_external_id="scope-customer", merged_external_ids=["scope-dup"]
    )[0]
    segment = segment_create(name="scope-segment", customer_external_ids=[customer.external_id])
    placement = placement_create(key="scope-placement", name="Scope placement")
    campaign = campaign_create(name="scope-campaign", subject="Hi", all_customers=True)
    program = coupon_program_create(key="scope-coupons", name="Scope", value=10)
    journey = journey_create(template="post_purchase")
    analysis = TextAnalysisFactory(review=ReviewFactory(product=product, customer=customer))
    alert = InsightAlert.objects.create(
        scope="all",
        day="2026-01-01",
        total=10,
        negative=8,
        share=0.8,
        expected=0.1,
        upper=0.3,
        z_score=5,
    )
    category = TextCategory.objects.create(name="scope-category", examples=["a b", "c d"])
    job = AnalysisJob.objects.create(kind="analyze", status="succeeded")
    forecast = ForecastFactory()
    return {
        ("/api/v1/forecasts/runs/", "run_id"): str(forecast.run.pk),
        ("/api/v1/forecasts/", "series"): forecast.series.key,
        ("/api/v1/insights/texts/", "analysis_id"): str(analysis.pk),
        ("/api/v1/insights/products/", "sku"): product.sku,
        ("/api/v1/insights/alerts/", "alert_id"): str(alert.pk),
        ("/api/v1/insights/categories/", "category_id"): str(category.pk),
        ("/api/v1/insights/jobs/", "job_id"): str(job.pk),
        ("/api/v1/journeys/", "journey_id"): str(journey.pk),
        ("/api/v1/campaigns/", "campaign_id"): str(campaign.pk),
        ("/api/v1/coupon-programs/", "key"): program.key,
        ("/api/v1/recommendations/placements/", "key"): placement.key,
        ("/api/v1/segments/", "segment_id"): str(segment.pk),
        ("/api/v1/segments/rfm/", "cell"): "champions",
        ("/api/v1/segments/clusters/", "cluster"): "0",
        ("/api/v1/segments/predictions/", "kind"): "churn",
        ("/api/v1/segments/", "external_id"): customer.external_id,
        ("/api/v1/quality/reports/", "entity"): "events",
        ("/api/v1/quality/runs/", "run_id"): str(quality_run.pk),
        ("/api/v1/quality/merges/", "merge_id"): str(merge.pk),
        ("/api/v1/customers/", "external_id"): customer.external_id,
        ("/api/v1/orders/", "external_id"): order.external_id,
        ("/api/v1/products/", "sku"): product.sku,
        ("/api/v1/recommendations/", "external_id"): customer.external_id,
        ("/api/v1/ml/runs/", "run_id"): str(run.pk),
        ("/api/v1/ml/models/", "model_version_id"): str(version.pk),
        ("/api/v1/quarantine/", "entry_id"): str(quarantine_id),
        ("/api/v1/imports/", "import_id"): str(ImportJobFactory().pk),
    }


def _fill(path: str, values: dict[tuple[str, str], str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        for (prefix, parameter), found in values.items():
            if parameter == name and path.startswith(prefix):
                return found
        pytest.fail(f"{path}: add a row for the path parameter {{{name}}} to path_values")

    return re.sub(r"{(\w+)}", value, path)


def _is_image(response: Any) -> bool:
    return response["Content-Type"].startswith("image/")


def _required_scope(url: str, method: str) -> str | None:
    view = resolve(url).func
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    scope_for = getattr(view_class, "scope_for", None)
    return scope_for(method) if scope_for else None


def _call(client: APIClient, method: str, url: str, **headers: str) -> Any:
    if method in {"POST", "PUT", "PATCH"}:
        return getattr(client, method.lower())(url, {}, format="json", **headers)
    return getattr(client, method.lower())(url, **headers)


def test_the_schema_lists_the_operations_this_test_covers():
    covered = {f"{method} {path}" for path, method, _ in OPERATIONS}

    assert {
        "GET /api/v1/ping",
        "GET /api/v1/me",
        "GET /api/v1/customers",
        "POST /api/v1/customers",
        "PATCH /api/v1/customers/{external_id}",
        "GET /api/v1/products/{sku}",
        "GET /api/v1/events",
        "GET /api/v1/ml/runs",
    } <= covered


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    OPERATIONS,
    ids=[f"{method} {path}" for path, method, _ in OPERATIONS],
)
def test_every_operation_enforces_its_scope(path, method, operation, path_values):
    # given the operation's URL with ids of rows that exist, and the scope it declares
    url = _fill(path, path_values)
    scope = _required_scope(url, method)
    assert scope is not None, f"{method} {path}: no scope declared (set required_scopes)"
    assert scope == ANY_SCOPE or scope in ALL_SCOPES, f"{method} {path}: unknown scope {scope}"
    if scope != ANY_SCOPE:
        assert operation[SCOPE_EXTENSION] == scope

    # when called without a key, then 401 with the error shape
    anonymous = _call(APIClient(), method, url)
    assert anonymous.status_code == 401, f"{method} {path} without a key"
    if _is_image(anonymous):  # the tracking pixel answers with an image, whatever happens
        assert anonymous["X-SmartMkt-Outcome"] == "error"
    else:
        assert set(anonymous.json()) == {"detail", "code"}

    # when called with every scope but the one it needs, then 403 with the error shape
    if scope != ANY_SCOPE:
        others = ApiKeyFactory(scopes=sorted(ALL_SCOPES - {scope}))
        refused = _call(APIClient(), method, url, **bearer(others))
        assert refused.status_code == 403, f"{method} {path} without {scope}"
        if not _is_image(refused):
            assert refused.json() == {
                "detail": f"This operation needs the scope {scope}",
                "code": "permission_denied",
            }

    # when called with exactly the scope it needs, then it is let through
    exact = ApiKeyFactory(scopes=[] if scope == ANY_SCOPE else [scope])
    allowed = _call(APIClient(), method, url, **bearer(exact))
    assert allowed.status_code not in (401, 403), (
        f"{method} {path} with {scope}: {allowed.status_code} {allowed.content[:200]!r}"
    )


GET_OPERATIONS = [
    (path, operation)
    for path, method, operation in OPERATIONS
    # The tracking pixel is an image for mail clients, not a page of the browsable API.
    if method == "GET" and "image/gif" not in operation["responses"]["200"].get("content", {})
]


@pytest.mark.parametrize(
    ("path", "operation"), GET_OPERATIONS, ids=[path for path, _ in GET_OPERATIONS]
)
def test_every_get_renders_in_the_browsable_api(path, operation, path_values):
    # given a signed-in admin browsing the API
    client = APIClient()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    # when a page of the browsable API is asked for, then it renders
    response = client.get(_fill(path, path_values), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_ping_answers_any_valid_key_and_refuses_no_key():
    api_key = ApiKeyFactory(scopes=["catalog:read"])

    with_key = APIClient().get("/api/v1/ping", **bearer(api_key))
    without = APIClient().get("/api/v1/ping")

    assert with_key.status_code == 200
    assert with_key.json() == {"ok": True}
    assert without.status_code == 401
    assert without.json()["code"] == "not_authenticated"


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any drf-spectacular warning or validation error into a failure.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.0.3")


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node)) if node else set()
    return set()


def _undescribed(schema: dict[str, Any], name: str, seen: set[str]) -> list[str]:
    if name in seen:
        return []
    seen.add(name)
    component = schema["components"]["schemas"][name]
    missing = [
        f"{name}.{field}"
        for field, spec in component.get("properties", {}).items()
        if not spec.get("description")
    ]
    for child in _refs(component):
        missing += _undescribed(schema, child, seen)
    return missing


def test_every_field_and_parameter_of_these_apps_is_described():
    # given the operations of the apps this test's authors own (ml documents its own)
    schema = _schema()
    owned = {"Customers", "Catalog", "Events and orders", "Accounts and access", "Core"}
    operations = [
        operation
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in METHODS and set(operation.get("tags", [])) & owned
    ]
    assert len(operations) >= 20

    # then every parameter, response and referenced field has a description
    missing: list[str] = []
    seen: set[str] = set()
    for operation in operations:
        op = operation["operationId"]
        missing += [
            f"{op} parameter {parameter['name']}"
            for parameter in operation.get("parameters", [])
            if not parameter.get("description")
        ]
        missing += [
            f"{op} response {code}"
            for code, response in operation["responses"].items()
            if not response.get("description")
        ]
        for name in sorted(_refs(operation)):
            missing += _undescribed(schema, name, seen)
    assert missing == []


def test_the_api_docs_work_offline():
    docs = APIClient().get("/api/docs/")

    assert docs.status_code == 200
    html = docs.content.decode()
    dist = settings.SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"]
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"{dist}/{asset}" in html
        assert (Path(settings.BASE_DIR) / "static/vendor/swagger-ui" / asset).stat().st_size > 0
    assert 'href="/static/img/favicon.svg"' in html
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    assert (Path(settings.BASE_DIR) / "static/img/favicon.svg").read_text().startswith("<svg")


def test_the_schema_is_served_to_anonymous_callers():
    response = APIClient().get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi: 3.0.3" in response.content
