"""Writes of orders, reviews and social posts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog.selectors import product_get, product_ids_by_sku
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.customers.selectors import customer_get
from apps.events.choices import OrderStatus, SalesChannel, SocialPlatform
from apps.events.contracts import OrderLineInput
from apps.events.models import Order, OrderLine, Review, SocialPost

CENT = Decimal("0.01")
ZERO = Decimal("0")
# A caller's own total may differ from ours by rounding, never by more than this.
TOTAL_TOLERANCE = Decimal("0.01")
# Clocks of shops and browsers drift; a timestamp a little in the future is still accepted.
CLOCK_SKEW = timedelta(minutes=5)


def _money(field: str, value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationFailed(f"{field}: {value!r} is not a number", field=field) from error
    if not amount.is_finite():
        raise ValidationFailed(f"{field}: {value!r} is not a number", field=field)
    if amount < 0:
        raise ValidationFailed(f"{field}: must not be negative", field=field)
    return amount.quantize(CENT)


def _not_in_future(field: str, moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValidationFailed(f"{field}: needs a time zone", field=field)
    if moment > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed(f"{field}: must not be in the future", field=field)
    return moment


def _existing_id(field: str, key: str, get: Callable[[], Any]) -> int | None:
    """The id of the row `get` finds for `key` (None when no key is given); an unknown key
    is bad input naming `field`, not a missing resource."""
    if not key:
        return None
    try:
        return get().pk
    except NotFound as error:
        raise ValidationFailed(f"{field}: {field} {key!r} does not exist", field=field) from error


def _customer_id(customer_external_id: str) -> int | None:
    return _existing_id(
        "customer", customer_external_id, lambda: customer_get(external_id=customer_external_id)
    )


def _product_id(product_sku: str) -> int | None:
    return _existing_id("product", product_sku, lambda: product_get(sku=product_sku))


def _build_lines(lines: Sequence[OrderLineInput]) -> list[OrderLine]:
    if not lines:
        raise ValidationFailed("lines: an order needs at least one line", field="lines")
    products = product_ids_by_sku(skus=[line.sku.strip() for line in lines])
    built = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        sku = line.sku.strip()
        if not sku:
            raise ValidationFailed(f"{where}.sku: must not be empty", field=f"{where}.sku")
        if len(sku) > 64:
            raise ValidationFailed(f"{where}.sku: at most 64 characters", field=f"{where}.sku")
        if not isinstance(line.quantity, int) or line.quantity < 1:
            raise ValidationFailed(
                f"{where}.quantity: must be a whole number of at least 1", field=f"{where}.quantity"
            )
        unit_price = _money(f"{where}.unit_price", line.unit_price)
        discount = _money(f"{where}.discount", line.discount)
        gross = unit_price * line.quantity
        if discount > gross:
            raise ValidationFailed(
                f"{where}.discount: {discount} is more than the line's {gross}",
                field=f"{where}.discount",
            )
        built.append(
            OrderLine(
                # Lines of SKUs the catalogue does not know keep the SKU text (product empty),
                # so nothing a shop sent is lost; they link up when the product is imported.
                product_id=products.get(sku),
                sku=sku,
                quantity=line.quantity,
                unit_price=unit_price,
                discount=discount,
                line_total=gross - discount,
            )
        )
    return built


@transaction.atomic
def order_create(
    *,
    external_id: str,
    placed_at: datetime,
    lines: Sequence[OrderLineInput],
    customer_external_id: str = "",
    status: str = OrderStatus.COMPLETED,
    channel: str = SalesChannel.WEB,
    currency: str = "USD",
    discount_total: Decimal = ZERO,
    shipping_total: Decimal = ZERO,
    total: Decimal | None = None,
    coupon_code: str = "",
    campaign: str = "",
) -> Order:
    """Record an order with its lines; the totals are computed here from the lines.

    subtotal = sum of line totals (each quantity x unit price - line discount);
    total = subtotal - discount_total + shipping_total. A `total` given by the caller must
    match (to the cent), so a shop's arithmetic error is refused instead of stored.
    """
    external_id = external_id.strip()
    if not external_id:
        raise ValidationFailed("external_id: an order needs the shop's id", field="external_id")
    if Order.objects.filter(external_id=external_id).exists():
        raise Conflict(
            f"external_id: order {external_id!r} already exists",
            code="order_exists",
            field="external_id",
        )
    if status not in OrderStatus.values:
        raise ValidationFailed(
            f"status: {status!r} is not one of {', '.join(OrderStatus.values)}", field="status"
        )
    if channel not in SalesChannel.values:
        raise ValidationFailed(
            f"channel: {channel!r} is not one of {', '.join(SalesChannel.values)}", field="channel"
        )
    placed_at = _not_in_future("placed_at", placed_at)
    built = _build_lines(lines)
    subtotal = sum((line.line_total for line in built), ZERO)
    discount_total = _money("discount_total", discount_total)
    shipping_total = _money("shipping_total", shipping_total)
    if discount_total > subtotal:
        raise ValidationFailed(
            f"discount_total: {discount_total} is more than the subtotal {subtotal}",
            field="discount_total",
        )
    computed = subtotal - discount_total + shipping_total
    if total is not None and abs(_money("total", total) - computed) > TOTAL_TOLERANCE:
        raise ValidationFailed(
            f"total: {total} does not match the lines (subtotal {subtotal} - discount "
            f"{discount_total} + shipping {shipping_total} = {computed})",
            field="total",
        )
    order = Order(
        external_id=external_id,
        customer_id=_customer_id(customer_external_id),
        status=status,
        channel=channel,
        placed_at=placed_at,
        currency=currency.strip().upper(),
        subtotal=subtotal,
        discount_total=discount_total,
        shipping_total=shipping_total,
        total=computed,
        coupon_code=coupon_code.strip(),
        campaign=campaign.strip(),
    )
    try:
        order.full_clean(validate_unique=False, validate_constraints=False, exclude=["customer"])
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as error:  # a concurrent create of the same external_id
        raise Conflict(
            f"external_id: order {external_id!r} already exists",
            code="order_exists",
            field="external_id",
        ) from error
    for line in built:
        line.order = order
    OrderLine.objects.bulk_create(built)
    return order


def _review_checked(
    *,
    product_sku: str,
    rating: int,
    reviewed_at: datetime,
    text: str,
    title: str,
    customer_external_id: str,
    language: str,
) -> dict[str, Any]:
    """The validated fields of a review (the ones a re-send may change come first)."""
    product_id = _product_id(product_sku)
    if product_id is None:
        raise ValidationFailed("product: a review needs the product's SKU", field="product")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("rating: must be a whole number from 1 to 5", field="rating")
    return {
        "rating": rating,
        "title": title.strip(),
        "text": text.strip(),
        "language": language.strip().lower(),
        "product_id": product_id,
        "customer_id": _customer_id(customer_external_id),
        "reviewed_at": _not_in_future("reviewed_at", reviewed_at),
    }


def _review_full_clean(review: Review) -> None:
    try:
        review.full_clean(
            validate_unique=False, validate_constraints=False, exclude=["product", "customer"]
        )
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error


@transaction.atomic
def review_create(
    *,
    product_sku: str,
    rating: int,
    reviewed_at: datetime,
    text: str = "",
    title: str = "",
    customer_external_id: str = "",
    source: str = "shop",
    external_id: str = "",
    language: str = "",
) -> Review:
    """Record a product review. A review with the same (source, external_id) is refused (409)."""
    values = _review_checked(
        product_sku=product_sku,
        rating=rating,
        reviewed_at=reviewed_at,
        text=text,
        title=title,
        customer_external_id=customer_external_id,
        language=language,
    )
    source = source.strip() or "shop"
    external_id = external_id.strip()
    if external_id and Review.objects.filter(source=source, external_id=external_id).exists():
        raise Conflict(
            f"external_id: review {external_id!r} from {source!r} already exists",
            code="review_exists",
            field="external_id",
        )
    review = Review(source=source, external_id=external_id, **values)
    _review_full_clean(review)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError as error:
        raise Conflict(
            f"external_id: review {external_id!r} from {source!r} already exists",
            code="review_exists",
            field="external_id",
        ) from error
    return review


# What a re-sent review may change; the product, author and writing time stay those of the
# first copy (a review platform's id names one review of one product by one person).
REVIEW_UPDATABLE_FIELDS = ("rating", "title", "text", "language")


@transaction.atomic
def review_upsert(
    *,
    product_sku: str,
    rating: int,
    reviewed_at: datetime,
    external_id: str,
    source: str = "shop",
    text: str = "",
    title: str = "",
    customer_external_id: str = "",
    language: str = "",
) -> tuple[Review, bool]:
    """Store a review, or update its rating, title, text and language when (source,
    external_id) is known: idempotent, so a review platform's webhook may re-send it.

    Returns the review and whether it was created. A re-send naming another product is
    refused (409): that is another review under a reused id, not an edit.
    """
    source = source.strip() or "shop"
    external_id = external_id.strip()
    if not external_id:
        raise ValidationFailed(
            "external_id: the review's id at the source is needed to recognise a re-send",
            field="external_id",
        )
    values = _review_checked(
        product_sku=product_sku,
        rating=rating,
        reviewed_at=reviewed_at,
        text=text,
        title=title,
        customer_external_id=customer_external_id,
        language=language,
    )
    review = (
        Review.objects.select_for_update().filter(source=source, external_id=external_id).first()
    )
    if review is None:
        review = Review(source=source, external_id=external_id, **values)
        _review_full_clean(review)
        try:
            with transaction.atomic():
                review.save()
            return review, True
        except IntegrityError:  # created concurrently: update the other writer's row
            review = Review.objects.select_for_update().get(source=source, external_id=external_id)
    _review_update(review, values)
    return review, False


def _review_update(review: Review, values: dict[str, Any]) -> None:
    if review.product_id != values["product_id"]:
        raise Conflict(
            f"product: review {review.external_id!r} from {review.source!r} is about another "
            "product; send a new review under its own id",
            code="review_product_changed",
            field="product",
        )
    changed = [name for name in REVIEW_UPDATABLE_FIELDS if getattr(review, name) != values[name]]
    if values["customer_id"] is not None and review.customer_id != values["customer_id"]:
        changed.append("customer_id")  # a customer linked later (only set, never cleared)
    if not changed:
        return
    for name in changed:
        setattr(review, name, values[name])
    _review_full_clean(review)
    review.save(update_fields=[*changed, "updated_at"])


@transaction.atomic
def social_post_upsert(
    *,
    platform: str,
    external_id: str,
    text: str,
    posted_at: datetime,
    author_handle: str = "",
    likes: int = 0,
    shares: int = 0,
    language: str = "",
    product_sku: str = "",
    customer_external_id: str = "",
) -> tuple[SocialPost, bool]:
    """Store a post, or refresh it (text, counts) when (platform, external_id) is known.

    Idempotent so a crawler may send the same post again and again. Returns the post and
    whether it was created.
    """
    if platform not in SocialPlatform.values:
        raise ValidationFailed(
            f"platform: {platform!r} is not one of {', '.join(SocialPlatform.values)}",
            field="platform",
        )
    external_id = external_id.strip()
    if not external_id:
        raise ValidationFailed("external_id: a post needs the platform's id", field="external_id")
    text = text.strip()
    if not text:
        raise ValidationFailed("text: must not be empty", field="text")
    for field, count in (("likes", likes), ("shares", shares)):
        if not isinstance(count, int) or count < 0:
            raise ValidationFailed(f"{field}: must be a whole number, not negative", field=field)
    values = {
        "text": text,
        "posted_at": _not_in_future("posted_at", posted_at),
        "author_handle": author_handle.strip()[:128],
        "likes": likes,
        "shares": shares,
        "language": language.strip().lower(),
    }
    # Links are only set when given: a crawler that re-sends a post without them keeps them.
    if product_sku:
        values["product_id"] = _product_id(product_sku)
    if customer_external_id:
        values["customer_id"] = _customer_id(customer_external_id)
    post = (
        SocialPost.objects.select_for_update()
        .filter(platform=platform, external_id=external_id)
        .first()
    )
    created = post is None
    if post is None:
        post = SocialPost(platform=platform, external_id=external_id)
    for field, value in values.items():
        setattr(post, field, value)
    try:
        post.full_clean(
            validate_unique=False, validate_constraints=False, exclude=["product", "customer"]
        )
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:  # created concurrently: the other writer's row wins, then ours
        post = SocialPost.objects.select_for_update().get(
            platform=platform, external_id=external_id
        )
        for field, value in values.items():
            setattr(post, field, value)
        post.save()
        created = False
    return post, created
