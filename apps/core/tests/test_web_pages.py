"""Every web page answers 200 to a signed-in analyst and sends anonymous visitors to sign in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.urls import reverse

from apps.accounts.services import api_key_create, api_key_revoke
from apps.core.web.context_processors import NAVIGATION
from tests.browser.shop_data import create_small_shop, create_user

NAV_URLS = [url for _label, url, _icon, _section in NAVIGATION]
PAGE_URLS = [*NAV_URLS, "/customers/cus-ada/"]


@pytest.fixture
def analyst_client(client):
    client.force_login(create_user(role="analyst"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGE_URLS)
def test_every_page_answers_200_for_a_signed_in_analyst(analyst_client, url):
    # given a shop with data
    create_small_shop()

    # when an analyst opens the page
    response = analyst_client.get(url)

    # then it renders inside the layout, with its own navigation entry highlighted
    assert response.status_code == 200
    assert b'class="app-sidebar"' in response.content
    assert b'aria-current="page"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", NAV_URLS)
def test_every_page_answers_200_on_an_empty_database(analyst_client, url):
    response = analyst_client.get(url)

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGE_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.django_db
def test_top_bar_shows_the_user_and_role(analyst_client):
    response = analyst_client.get("/")

    assert b"Anna Analyst" in response.content
    assert b'<span class="role-badge role-analyst">analyst</span>' in response.content


@pytest.mark.django_db
def test_login_page_has_the_product_look_and_no_sign_up_link(client):
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert b'data-testid="login-form"' in response.content
    assert b"smartmkt.css" in response.content
    assert b"Sign up" not in response.content


@pytest.mark.django_db
def test_signing_in_through_the_form_lands_on_the_dashboard(client):
    create_user(username="lena", role="marketer")

    response = client.post(
        reverse("account_login"), {"login": "lena", "password": "correct-horse-battery-staple"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_unknown_page_renders_the_404_template(analyst_client):
    response = analyst_client.get("/customers/no-such-customer/")

    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"/customers/no-such-customer/" in response.content


@pytest.mark.django_db
def test_shell_pages_say_what_is_coming_and_which_issue_brings_it(analyst_client):
    response = analyst_client.get(reverse("media:index"))

    assert b"Not built yet" in response.content
    assert b"manage.py images evaluate" in response.content


@pytest.mark.django_db
def test_data_page_counts_every_kind_of_data(analyst_client):
    create_small_shop()

    response = analyst_client.get(reverse("events:index"))

    inventory = response.context["inventory"]
    assert (inventory.customers.count, inventory.products.count) == (2, 2)
    assert (inventory.orders.count, inventory.events.count) == (5, 5)
    assert (inventory.reviews.count, inventory.social_posts.count) == (0, 0)
    assert b"Recent imports" in response.content


@pytest.mark.django_db
def test_data_page_on_an_empty_database_says_how_to_load_the_demo_shop(analyst_client):
    response = analyst_client.get(reverse("events:index"))

    assert response.context["inventory"].is_empty is True
    assert b"manage.py demo_data" in response.content


@pytest.mark.django_db
def test_settings_lists_api_keys_read_only_with_their_state(client):
    admin = User.objects.create_superuser("root", "root@shop.example", "pw")
    api_key_create(name="Shop backend", scopes=["events:write"], created_by=admin)
    revoked = api_key_create(name="Old partner", scopes=["customers:read"], created_by=admin)
    api_key_revoke(api_key_id=revoked.api_key.id, actor=admin)
    client.force_login(admin)

    response = client.get(reverse("accounts:index"))

    assert response.status_code == 200
    assert [key.name for key in response.context["api_keys"]] == ["Old partner", "Shop backend"]
    assert response.content.count(b"Revoked</span>") == 1
    assert b"manage.py create_api_key" in response.content
    assert b"<form" not in response.content.split(b'data-testid="api-keys"')[1]


def test_the_500_page_renders_without_any_request_context():
    html = render_to_string("500.html")

    assert "Something went wrong" in html
    assert "/static/css/smartmkt.css" in html


@pytest.mark.django_db
def test_settings_hides_api_keys_from_non_admins(analyst_client):
    api_key_create(name="Shop backend", scopes=["events:write"])

    response = analyst_client.get(reverse("accounts:index"))

    assert response.status_code == 200
    assert list(response.context["api_keys"]) == []
    assert b"Shop backend" not in response.content
    assert b"Admins only" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/customers/", "/data/", "/models/", "/segments/"])
def test_a_signed_in_user_without_a_role_sees_no_data(client, url):
    # given an account nobody has given a role yet
    client.force_login(User.objects.create_user("norole", "norole@shop.example", "pw"))

    # when they open a page with shop data
    response = client.get(url)

    # then it is refused and says what to do
    assert response.status_code == 403
    assert b"ask an admin" in response.content
