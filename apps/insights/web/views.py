"""Web pages of the insights app: dashboard, topics, texts, categories, product insights, the
sentiment model. Thin views over selectors and services."""

from __future__ import annotations

from pathlib import Path
from tempfile import NamedTemporaryFile
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.catalog.selectors import product_get
from apps.core.errors import DomainError
from apps.core.web.decorators import scope_required
from apps.insights import selectors
from apps.insights.choices import Aspect, Emotion, JobKind, Sentiment, TextSource, TopicMethod
from apps.insights.models import TextCategory
from apps.insights.services import alerts, categories, sentiment, store
from apps.insights.services.analysis import texts_analyze
from apps.insights.services.runtime import SENTIMENT_KIND
from apps.insights.web.forms import AnalyzeForm, CategoryForm, TrainForm
from apps.ml.selectors import champion_get, training_run_list

READ = "insights:read"
WRITE = "insights:write"
LANGUAGES = (("en", "English"), ("zh", "Chinese"))


def _can_write(request: HttpRequest) -> bool:
    return WRITE in user_scopes(user=request.user)


def _require_write(request: HttpRequest) -> None:
    if not _can_write(request):
        raise PermissionDenied(f"Your role does not include {WRITE}.")


ROLLING_POINTS = 7


def _trend_chart(points: list[Any]) -> dict[str, Any]:
    """Stacked counts per period and the negative share over the last 7 periods (a day with
    two texts would otherwise swing the line between 0% and 100%)."""
    shares: list[float | None] = []
    for index in range(len(points)):
        window = points[max(0, index - ROLLING_POINTS + 1) : index + 1]
        total = sum(point.total for point in window)
        negative = sum(point.negative for point in window)
        shares.append(round(100 * negative / total, 1) if total else None)
    return {
        "labels": [point.period.isoformat() for point in points],
        "positive": [point.positive for point in points],
        "neutral": [point.neutral for point in points],
        "negative": [point.negative for point in points],
        "share": shares,
    }


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard: mood over time, by channel, what people complain about, alerts."""
    days = 90
    channel = request.GET.get("channel", "")
    points = selectors.sentiment_trend(days=days, channel=channel)
    context = {
        "totals": selectors.analysis_totals(),
        "trend": _trend_chart(points),
        "channel": channel,
        "channels": selectors.channel_summary(days=30),
        "negative_topics": selectors.top_negative_topics(limit=5),
        "keywords": selectors.keyword_trends(days=7, top_n=12),
        "worst_products": selectors.products_by_sentiment(days=90, limit=6),
        "emotions": sorted(selectors.emotion_counts(days=30).items(), key=lambda item: -item[1]),
        "alerts": selectors.alert_list(status="open", limit=10),
        "job": selectors.analysis_job_latest(),
        "pending": store.pending_count(),
        "can_write": _can_write(request),
        "form": AnalyzeForm(),
    }
    return render(request, "insights/index.html", context)


@scope_required(READ)
def try_text(request: HttpRequest) -> HttpResponse:
    """The "try a text" box: analyse what was typed (nothing stored)."""
    form = AnalyzeForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = texts_analyze([form.cleaned_data["text"]], categories=store.category_specs())[0]
    return render(request, "insights/_try_result.html", {"form": form, "result": result})


@require_POST
@scope_required(READ)
def job_start(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    kind = request.POST.get("kind", JobKind.ANALYZE)
    try:
        job = store.analysis_job_start(kind=kind, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        job.refresh_from_db()
        messages.success(
            request, f"{job.get_kind_display()}: {job.get_status_display().lower()}. {job.message}"
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "insights:index")


@require_POST
@scope_required(READ)
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    _require_write(request)
    try:
        alerts.insight_alert_acknowledge(alert_id=alert_id, user=request.user)
    except DomainError as error:
        raise Http404(error.message) from None
    return redirect("insights:index")


@scope_required(READ)
def topics(request: HttpRequest) -> HttpResponse:
    language = request.GET.get("language", "en")
    method = request.GET.get("method", TopicMethod.LDA)
    if language not in dict(LANGUAGES) or method not in TopicMethod.values:
        raise Http404("Unknown language or method")
    model = selectors.topic_model_active(language=language, method=method)
    views = selectors.topic_views(model) if model else []
    context = {
        "language": language,
        "method": method,
        "languages": LANGUAGES,
        "methods": TopicMethod.choices,
        "model": model,
        "topics": views,
        "sparklines": {
            str(view.topic.pk): {
                "labels": [w.isoformat() for w, _ in view.weekly],
                "values": [c for _, c in view.weekly],
            }
            for view in views
        },
        "coherence": {
            "labels": list((model.coherence or {}).keys()) if model else [],
            "values": list((model.coherence or {}).values()) if model else [],
        },
        "can_write": _can_write(request),
        "job": selectors.analysis_job_active(),
    }
    return render(request, "insights/topics.html", context)


@scope_required(READ)
def texts(request: HttpRequest) -> HttpResponse:
    """Every analysed text, filterable by what the models said."""
    filters = {
        name: request.GET.get(name, "")
        for name in (
            "source",
            "channel",
            "language",
            "sentiment",
            "emotion",
            "category",
            "aspect",
            "search",
        )
    }
    topic = request.GET.get("topic", "")
    queryset = selectors.analysis_list(
        **filters, topic_id=int(topic) if topic.isdigit() else None
    ).prefetch_related("category_matches__category")
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    rows = [(analysis, selectors.analysis_text(analysis)) for analysis in page.object_list]
    query = urlencode({k: v for k, v in {**filters, "topic": topic}.items() if v})
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "topic": topic,
        "query": query,
        "sources": TextSource.choices,
        "sentiments": Sentiment.choices,
        "emotions": Emotion.choices,
        "aspects": Aspect.choices,
        "languages": LANGUAGES,
        "channels": [c.channel for c in selectors.channel_summary(days=3650)],
        "categories": TextCategory.objects.filter(is_active=True).order_by("name"),
    }
    return render(request, "insights/texts.html", context)


@scope_required(READ)
def category_list(request: HttpRequest) -> HttpResponse:
    context = {
        "categories": selectors.category_list(),
        "checks": categories.text_categories_check() if request.GET.get("check") else {},
        "can_write": _can_write(request),
    }
    return render(request, "insights/categories.html", context)


@scope_required(READ)
def category_edit(request: HttpRequest, category_id: int | None = None) -> HttpResponse:
    _require_write(request)
    category = None
    if category_id is not None:
        category = TextCategory.objects.filter(pk=category_id).first()
        if category is None:
            raise Http404("No such category")
    initial = (
        {
            "name": category.name,
            "description": category.description,
            "examples": "\n".join(category.examples),
            "threshold": category.threshold,
            "is_active": category.is_active,
        }
        if category
        else {"threshold": 0.2, "is_active": True}
    )
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("delete") and category is not None:
                categories.text_category_delete(category_id=category.pk)
                messages.success(request, f"Category {category.name} deleted.")
                return redirect("insights:categories")
            if category is None:
                saved = categories.text_category_create(
                    name=data["name"],
                    examples=data["examples"],
                    threshold=data["threshold"],
                    description=data["description"],
                    is_active=data["is_active"],
                    user=request.user,
                )
            else:
                saved = categories.text_category_update(
                    category_id=category.pk,
                    name=data["name"],
                    examples=data["examples"],
                    threshold=data["threshold"],
                    description=data["description"],
                    is_active=data["is_active"],
                )
        except DomainError as error:
            form.add_error(
                getattr(error, "field", None)
                if getattr(error, "field", None) in form.fields
                else None,
                error.message,
            )
        else:
            messages.success(request, f"Category {saved.name} saved; texts are being matched.")
            return redirect("insights:categories")
    return render(request, "insights/category_form.html", {"form": form, "category": category})


@scope_required(READ)
def product(request: HttpRequest, sku: str) -> HttpResponse:
    try:
        item = product_get(sku=sku)
    except DomainError as error:
        raise Http404(error.message) from None
    found = selectors.product_insights(product_id=item.pk)
    context = {
        "product": item,
        "insights": found,
        "trend": _trend_chart(found.trend),
        "aspects": [
            (Aspect(name).label if name in Aspect.values else name, summary)
            for name, summary in found.aspects.items()
        ],
        "recent": [(analysis, selectors.analysis_text(analysis)) for analysis in found.recent],
    }
    return render(request, "insights/product.html", context)


@scope_required(READ)
def products(request: HttpRequest) -> HttpResponse:
    context = {
        "worst": selectors.products_by_sentiment(days=365, limit=15),
        "best": selectors.products_by_sentiment(days=365, limit=15, worst=False),
    }
    return render(request, "insights/products.html", context)


@scope_required(READ)
def model(request: HttpRequest) -> HttpResponse:
    """The sentiment model: what serves, how it measured, retraining on your own labels."""
    form = TrainForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            with NamedTemporaryFile(suffix=".csv") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                try:
                    stored = sentiment.labelled_dataset_store(
                        path=Path(handle.name),
                        text_column=form.cleaned_data["text_column"],
                        label_column=form.cleaned_data["label_column"],
                    )
                    run = sentiment.sentiment_training_start(
                        dataset=stored["dataset"],
                        params={
                            "mode": form.cleaned_data["mode"],
                            "epochs": form.cleaned_data["epochs"],
                        },
                        user=request.user,
                        trigger="web",
                    )
                except DomainError as error:
                    form.add_error("file", error.message)
                else:
                    messages.success(
                        request,
                        f"Training run {run.pk} queued on {stored['rows']:,} labelled texts.",
                    )
                    return redirect("insights:model")
    champion = champion_get(SENTIMENT_KIND)
    metrics = champion.metrics if champion else {}
    context = {
        "champion": champion,
        "metrics": metrics,
        "holdout": metrics.get("holdout") or {},
        "runs": training_run_list(kind=SENTIMENT_KIND)[:10],
        "form": form,
        "can_write": _can_write(request),
    }
    return render(request, "insights/model.html", context)
