"""Email content: personalisation, the recommendations block, tracked links, plain text."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from apps.campaigns.services import message_preview
from apps.campaigns.services.content import content_compile, message_render
from apps.campaigns.tests.factories import CampaignFactory, subscriber
from apps.core.errors import ValidationFailed
from apps.recommendations.services.champion import loaded_models_clear
from apps.recommendations.services.fallback import popularity_cache_clear
from apps.recommendations.tests.shop import publish, shop_build, toy_model

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_stale_models(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    loaded_models_clear()
    popularity_cache_clear()
    caches["default"].clear()
    yield
    loaded_models_clear()
    popularity_cache_clear()


def test_the_recommendations_block_lists_the_customers_picks_with_tracked_links(settings):
    # given a trained recommender and no placement rows (the email placement is built in)
    settings.CAMPAIGNS_PRODUCT_URL = "https://shop.example.com/p/{sku}"
    shop_build()
    publish(toy_model())
    alice = subscriber(external_id="alice", first_name="Alice")
    campaign = CampaignFactory()

    # when her email is rendered with tracking
    rendered = message_render(
        content_compile(campaign), customer=alice, token="6b1f0c2e-0000-4000-8000-000000000001"
    )

    # then it greets her and lists four products, each linked through the click tracker
    assert "Hi Alice," in rendered.html
    assert rendered.html.count('<td class="product"') == 4
    assert rendered.html.count("/e/c/6b1f0c2e-0000-4000-8000-000000000001?u=") == 5  # + shop
    assert "shop.example.com%2Fp%2F" in rendered.html
    # the text part lists them too, with their addresses
    assert "Hi Alice," in rendered.text
    assert rendered.text.count("/e/c/") >= 5


def test_a_preview_leaves_links_untracked_and_logs_nothing():
    shop_build()
    alice = subscriber(first_name="Alice")
    campaign = CampaignFactory(
        html_body="<p>{% if customer.first_name %}Hi {{ customer.first_name }}{% else %}Hello{% endif %}</p>"
        '<a href="https://shop.example.com/">Shop</a>'
    )

    rendered = message_preview(campaign=campaign, customer=alice)
    anonymous = message_preview(campaign=campaign, customer=None)

    assert "Hi Alice" in rendered.html and "Hello" in anonymous.html
    assert "/e/c/" not in rendered.html and "/e/o/" not in rendered.html
    assert "utm_source=smartmkt" in rendered.html


def test_a_template_error_names_the_field():
    campaign = CampaignFactory(subject="Hi {% if %}")

    with pytest.raises(ValidationFailed) as error:
        content_compile(campaign)

    assert error.value.message.startswith("subject:")
