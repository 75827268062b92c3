"""Personalised promotions: programs, codes issued once per customer (in an email or through
the API), targeting of the persuadable with a holdout, redemption from orders.

Why target at all: a discount given to someone who would have bought anyway is lost margin.
A persuadable customer is one whose purchase propensity is neither high (a sure thing) nor
very low (a lost cause), with enough expected value (12-month CLV). A share of the targeted
customers is held out (no code, recorded) so the program's report can show the uplift the
codes caused, not just how many were used.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.campaigns.choices import CouponTarget, DiscountType
from apps.campaigns.engine.assignment import assign
from apps.campaigns.models import Coupon, CouponProgram
from apps.core.errors import NotFound, ValidationFailed
from apps.events.selectors import orders_with_coupon_codes
from apps.segments.selectors import customer_targeting_scores

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8


@dataclass(frozen=True)
class CouponOffer:
    """What an email shows: the code and its terms (None from `coupon_offer`: no code)."""

    code: str
    value: Decimal
    discount_type: str
    expires_at: datetime
    min_order_total: Decimal
    sample: bool = False  # a preview's made-up code: nothing was issued

    @property
    def label(self) -> str:
        if self.discount_type == DiscountType.PERCENT:
            return f"{self.value.normalize():f}% off"
        return f"{self.value:.2f} off"


def program_get(*, key: str) -> CouponProgram:
    program = CouponProgram.objects.filter(key=key).first()
    if program is None:
        raise NotFound(f"coupon program {key!r} does not exist", code="coupon_program_not_found")
    return program


def targeted(program: CouponProgram, customer_id: int) -> bool:
    """Whether the program's targeting rule selects the customer (holdout aside)."""
    if program.target == CouponTarget.EVERYONE:
        return True
    scores = customer_targeting_scores(customer_ids=[customer_id]).get(customer_id)
    if scores is None:
        return True  # no scores yet: no evidence either way
    propensity, clv = scores
    if propensity is not None and not (
        program.min_propensity <= propensity <= program.max_propensity
    ):
        return False
    return not (clv is not None and program.min_clv > 0 and clv < program.min_clv)


def _exhausted(program: CouponProgram, now: datetime) -> bool:
    if not program.is_active or (program.ends_at is not None and now >= program.ends_at):
        return True
    if program.max_issued is not None:
        issued = Coupon.objects.filter(program=program, held_out=False).count()
        if issued >= program.max_issued:
            return True
    if program.budget is not None:
        spent = Coupon.objects.filter(program=program).aggregate(total=Sum("discount"))["total"]
        if (spent or Decimal("0")) >= program.budget:
            return True
    return False


def _code(program: CouponProgram) -> str:
    if program.shared_code:
        return program.shared_code
    prefix = (program.code_prefix or program.key[:8]).upper().replace("-", "")
    return f"{prefix}-{''.join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))}"


def _offer(program: CouponProgram, coupon: Coupon) -> CouponOffer:
    return CouponOffer(
        code=coupon.code,
        value=program.value,
        discount_type=program.discount_type,
        expires_at=coupon.expires_at,
        min_order_total=program.min_order_total,
    )


def coupon_offer(
    *,
    program: CouponProgram,
    customer_id: int,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> CouponOffer | None:
    """The customer's code of the program, issued now if they have none (once, even when
    asked twice at the same moment); None when they are not targeted, held out, or the
    program is over (ended, inactive, budget or count reached). Why: the email block and the
    API hand out codes the same way."""
    now = now or timezone.now()
    existing = Coupon.objects.filter(program=program, customer_id=customer_id).first()
    if existing is not None:
        return None if existing.held_out else _offer(program, existing)
    if _exhausted(program, now) or not targeted(program, customer_id):
        return None
    held_out, _ = assign(
        salt=f"coupon:{program.pk}",
        key=str(customer_id),
        holdout_percent=program.holdout_percent,
        variants=[],
    )
    for _ in range(5):
        try:
            with transaction.atomic():
                coupon = Coupon.objects.create(
                    program=program,
                    customer_id=customer_id,
                    code="" if held_out else _code(program),
                    held_out=held_out,
                    campaign_id=campaign_id,
                    expires_at=now + timedelta(days=program.valid_days),
                )
            break
        except IntegrityError:  # issued meanwhile by another sender
            coupon = Coupon.objects.get(program=program, customer_id=customer_id)
            break
    return None if coupon.held_out else _offer(program, coupon)


def coupon_sample(*, program: CouponProgram, now: datetime | None = None) -> CouponOffer:
    """A made-up code in the program's format, for previews: nothing is issued."""
    now = now or timezone.now()
    return CouponOffer(
        code=_code(program),
        value=program.value,
        discount_type=program.discount_type,
        expires_at=now + timedelta(days=program.valid_days),
        min_order_total=program.min_order_total,
        sample=True,
    )


@transaction.atomic
def coupon_program_create(**fields: Any) -> CouponProgram:
    """A program from its fields (key, name and value required), checked field by field."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    program = CouponProgram(**fields)
    try:
        program.full_clean()
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from None
    if program.min_propensity > program.max_propensity:
        raise ValidationFailed(
            "min_propensity: must not be above max_propensity", field="min_propensity"
        )
    if program.discount_type == DiscountType.PERCENT and not 0 < program.value <= 100:
        raise ValidationFailed("value: a percent between 0 and 100", field="value")
    program.save()
    return program


def coupons_redeem(*, since: datetime | None = None) -> int:
    """Mark codes used by orders (their coupon_code) as redeemed, with the order's discount;
    returns how many. Unique codes match by code; a shared code by code and customer. An
    expired code used anyway is recorded too (the shop accepted it)."""
    pending = Coupon.objects.filter(redeemed_at__isnull=True, held_out=False).exclude(code="")
    codes = set(pending.values_list("code", flat=True))
    if not codes:
        return 0
    redeemed = 0
    for order_id, customer_id, code, placed_at, discount in orders_with_coupon_codes(
        codes=codes, since=since
    ):
        coupons = pending.filter(code=code, created_at__lte=placed_at + timedelta(minutes=5))
        own = coupons.filter(customer_id=customer_id).first() if customer_id else None
        match = own or coupons.filter(program__shared_code="").first()
        if match is None:
            continue
        updated = Coupon.objects.filter(pk=match.pk, redeemed_at__isnull=True).update(
            redeemed_at=placed_at, order_external_id=order_id, discount=discount
        )
        redeemed += updated
    return redeemed
