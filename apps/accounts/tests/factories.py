"""Factories for accounts: users in a role, and partner API keys that remember their secret."""

from __future__ import annotations

import secrets
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.accounts.choices import ALL_SCOPES
from apps.accounts.models import ApiKey
from apps.accounts.services import KEY_PREFIX, hash_secret


class UserFactory(factory.django.DjangoModelFactory):
    """A UI user; `UserFactory(role="analyst")` puts them in that role's group."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda user: user.username)
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(user: Any, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create and extracted:
            group, _ = Group.objects.get_or_create(name=extracted)
            user.groups.add(group)


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A partner key. The secret is kept on the instance as `raw_key` (only its hash is stored)."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"partner {n}")
    prefix = factory.LazyFunction(lambda: secrets.token_hex(6))
    scopes = factory.LazyFunction(lambda: ["customers:read"])
    hashed_secret = ""  # set from the generated secret in _create

    @classmethod
    def _create(cls, model_class: type[ApiKey], *args: Any, **kwargs: Any) -> ApiKey:
        raw_key = f"{KEY_PREFIX}_{kwargs['prefix']}_{secrets.token_urlsafe(32)}"
        kwargs["hashed_secret"] = hash_secret(raw_key)
        api_key = super()._create(model_class, *args, **kwargs)
        api_key.raw_key = raw_key
        return api_key


def bearer(api_key: ApiKey) -> dict[str, str]:
    """Request headers that authenticate with this factory-made key."""
    return {"HTTP_AUTHORIZATION": f"Bearer {api_key.raw_key}"}


def all_scopes_except(*excluded: str) -> list[str]:
    return sorted(ALL_SCOPES - set(excluded))
