"""Coupon program pages: the list with issued and redeemed codes, a new program, a program's
report (cost and uplift against its holdout)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.campaigns import selectors
from apps.campaigns.services.coupons import coupon_program_create, program_get
from apps.campaigns.web.forms import CouponProgramForm
from apps.campaigns.web.views import READ, _can_write, _require_write
from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "campaigns/coupons.html",
        {"programs": selectors.coupon_program_list(), "can_write": _can_write(request)},
    )


@scope_required(READ)
def create(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    form = CouponProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = coupon_program_create(**form.cleaned_data)
        except DomainError as error:
            field = getattr(error, "field", None)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, "Coupon program created.")
            return redirect("campaigns:coupon_detail", key=program.key)
    return render(request, "campaigns/coupon_form.html", {"form": form})


@scope_required(READ)
def detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        program = program_get(key=key)
    except NotFound as error:
        raise Http404(error.message) from None
    report = selectors.coupon_program_report(program=program)
    return render(request, "campaigns/coupon_detail.html", {"program": program, "report": report})
