"""The customers of the demo shop: demographics, consent history, aliases and latent traits.

Pure: numpy and the standard library only, no Django. Latent traits per customer: the segment,
the BG/NBD purchase rate and dropout probability, the Gamma-Gamma spend rate, department
affinities (Dirichlet around the gender and segment profile), a favourite style and a rating
bias. Emails use reserved example domains (RFC 2606), phone numbers the ranges set aside for
fiction, so a demo campaign can never reach a real person.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from apps.core.demo.catalog import GENDER_GROUP_ANY, GENDER_GROUP_FEMALE, GENDER_GROUP_MALE
from apps.core.demo.context import ShopContext
from apps.core.demo.rows import AliasRows, ConsentRows, CustomerRows

EMAIL_PATTERNS = ("{f}.{l}{n}", "{f}{l}{n}", "{i}{l}{n}", "{l}.{f}{n}", "{f}_{l}{n}")


@dataclass
class Population:
    """Latent and observed traits of one chunk of customers (arrays of length n)."""

    first: int
    n: int
    segment: np.ndarray
    country: np.ndarray
    language: list[str]
    gender_group: np.ndarray
    signup_h: np.ndarray
    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray
    affinity: list[list[float]]  # cumulative department affinity per customer
    top_department: np.ndarray
    style: np.ndarray
    review_bias: np.ndarray
    alias: list[str]
    email_grant_h: np.ndarray  # inf when never granted
    email_withdraw_h: np.ndarray  # inf when never withdrawn
    email_consent_final: np.ndarray
    has_email: np.ndarray
    handles: list[str]


def draw_population(
    shop: ShopContext, index: int, first: int, n: int
) -> tuple[CustomerRows, ConsentRows, AliasRows, Population]:
    """Customers of one chunk: who they are, their consent history and their latent traits."""
    rng, rnd = shop.rng("customers", index), shop.random("customers", index)
    config = shop.config.customers
    segments = shop.segments
    shares = np.array([s.share for s in segments])
    segment = rng.choice(len(segments), n, p=shares / shares.sum())
    weights = np.array([float(c["weight"]) for c in shop.countries])
    country = rng.choice(len(shop.countries), n, p=weights / weights.sum())
    gender_names = list(config["gender_weights"])
    gender_weights = np.array([float(config["gender_weights"][g]) for g in gender_names])
    gender_index = rng.choice(len(gender_names), n, p=gender_weights / gender_weights.sum())
    signup_h = shop.signup_curves.sample(rng, country, np.zeros(n), np.full(n, float(shop.hours)))
    age = config["age"]
    ages = rng.triangular(float(age["min"]), float(age["mode"]), float(age["max"]), n)

    def param(name: str, key: str) -> np.ndarray:
        return np.array([getattr(getattr(s, name), key) for s in segments])[segment]

    lam = rng.gamma(param("bgnbd", "r"), 1.0 / param("bgnbd", "alpha"))
    dropout_p = rng.beta(param("bgnbd", "a"), param("bgnbd", "b"))
    nu = rng.gamma(param("gamma_gamma", "q"), 1.0 / param("gamma_gamma", "v"))
    review_bias = rng.normal(0.0, float(shop.config.behaviour["reviews"]["customer_sd"]), n)
    email_draw, phone_draw, alias_draw = rng.random(n), rng.random(n), rng.random(n)

    departments = shop.catalog.departments
    affinity_config = shop.config.department_affinity
    concentration = float(affinity_config["concentration"])
    alpha = np.zeros((n, len(departments)))
    for k in range(n):
        base = affinity_config["by_gender"][gender_names[gender_index[k]]]
        multipliers = segments[segment[k]].department_multipliers
        row = np.array([base.get(d, 0.01) * multipliers.get(d, 1.0) for d in departments])
        alpha[k] = concentration * row / row.sum()
    draws = rng.gamma(np.maximum(alpha, 1e-3))
    affinity = draws / draws.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(affinity, axis=1)
    cumulative[:, -1] = 1.0

    styles = shop.catalog.styles
    style_config = shop.config.catalog["styles"]
    rows = CustomerRows()
    consents = ConsentRows()
    aliases = AliasRows()
    consent_config = config["consent"]
    email_grant = np.full(n, np.inf)
    email_withdraw = np.full(n, np.inf)
    email_final = np.zeros(n, dtype=bool)
    has_email = email_draw < float(config["email_share"])
    style = np.zeros(n, dtype=np.int64)
    gender_group = np.zeros(n, dtype=np.int64)
    languages: list[str] = []
    alias_ids: list[str] = []
    handles: list[str] = []
    end_date = shop.spec.end
    hours = float(shop.hours)
    for k in range(n):
        number = first + k + 1
        country_config = shop.countries[country[k]]
        language = str(country_config["language"])
        gender = gender_names[gender_index[k]]
        names = config["names"][language]
        pool = names[gender] if gender in names else names[rnd.choice(("female", "male"))]
        given, family = rnd.choice(pool), rnd.choice(names["last"])
        if language == "zh":
            (first_name, given_ascii), (last_name, family_ascii) = given, family
        else:
            first_name, last_name = given, family
            given_ascii, family_ascii = ascii_name(given), ascii_name(family)
        signup = float(signup_h[k])
        signup_s = shop.epoch(signup)
        email = ""
        if has_email[k]:
            local = rnd.choice(EMAIL_PATTERNS).format(
                f=given_ascii, l=family_ascii, i=given_ascii[:1], n=number
            )
            email = f"{local}@{rnd.choice(country_config['email_domains'])}"
        phone = ""
        if phone_draw[k] < float(config["phone_share"]):
            phone = str(country_config["phone_prefix"]) + digits(
                rnd, str(country_config["phone_format"])
            )
        city, region, _ = rnd.choices(
            country_config["cities"], weights=[float(c[2]) for c in country_config["cities"]]
        )[0]
        channels = config["acquisition_channels_zh" if language == "zh" else "acquisition_channels"]
        channel = rnd.choices(list(channels), weights=[float(w) for w in channels.values()])[0]
        birth = end_date - timedelta(days=int(ages[k] * 365.25) + rnd.randrange(365))
        style_weights = [
            float(style_config[s]["weight"])
            * float(shop.config.style_gender_multipliers.get(gender, {}).get(s, 1.0))
            for s in styles
        ]
        style[k] = rnd.choices(range(len(styles)), weights=style_weights)[0]
        gender_group[k] = {"female": GENDER_GROUP_FEMALE, "male": GENDER_GROUP_MALE}.get(
            gender, GENDER_GROUP_ANY
        )
        rows.external_id.append(f"demo-c{number:06d}")
        rows.email.append(email)
        rows.phone.append(phone)
        rows.first_name.append(first_name)
        rows.last_name.append(last_name)
        rows.gender.append(gender)
        rows.birth_date.append(birth)
        rows.city.append(city)
        rows.region.append(region)
        rows.country.append(str(country_config["code"]))
        rows.language.append(language)
        rows.signup_at.append(signup_s)
        rows.acquisition_channel.append(channel)
        rows.attributes.append(
            {
                "preferred_size": rnd.choice(config["preferred_sizes"].get(gender, ["M"])),
                "demo": True,
            }
        )
        languages.append(language)
        handles.append(
            f"{given_ascii}{rnd.choice(('', '_', '.'))}{family_ascii}{rnd.randrange(10, 999)}"
        )

        # Consent: a decision at sign-up, sometimes changed later (the newest row wins).
        later_ok = signup + 48 < hours - 1

        def later(
            purpose: str,
            granted: bool,
            source: str,
            share: str,
            k: int = k,
            signup: float = signup,
            later_ok: bool = later_ok,
        ) -> float | None:
            """Maybe a newer decision after sign-up; returns when it was made (hours)."""
            if not later_ok or rnd.random() >= float(consent_config[share]):
                return None
            when = rnd.uniform(signup + 24, hours - 1)
            consent(consents, k, purpose, granted, shop.epoch(when), source)
            return when

        if has_email[k]:
            if rnd.random() < float(consent_config["email_marketing_granted"]):
                consent(consents, k, "email_marketing", True, signup_s + 2, "signup_form")
                email_grant[k], email_final[k] = signup, True
                withdrawn = later(
                    "email_marketing", False, "unsubscribe_link", "email_marketing_later_withdrawal"
                )
                if withdrawn is not None:
                    email_withdraw[k], email_final[k] = withdrawn, False
            else:
                if rnd.random() < float(consent_config["email_marketing_record_refusal"]):
                    consent(consents, k, "email_marketing", False, signup_s + 2, "signup_form")
                granted = later(
                    "email_marketing", True, "preference_center", "email_marketing_later_grant"
                )
                if granted is not None:
                    email_grant[k], email_final[k] = granted, True
        profiling = rnd.random() < float(consent_config["profiling_granted"])
        consent(consents, k, "profiling", profiling, signup_s + 1, "cookie_banner")
        if profiling:
            later("profiling", False, "privacy_settings", "profiling_later_withdrawal")
        if phone and rnd.random() < float(consent_config["sms_marketing_granted_of_phone"]):
            consent(consents, k, "sms_marketing", True, signup_s + 3, "signup_form")

        alias = ""
        if alias_draw[k] < float(config["alias_share"]):
            alias = f"anon-{rnd.getrandbits(64):016x}"
            aliases.customer.append(k)
            aliases.alias.append(alias)
            aliases.kind.append("anonymous")
        alias_ids.append(alias)

    population = Population(
        first=first,
        n=n,
        segment=segment,
        country=country,
        language=languages,
        gender_group=gender_group,
        signup_h=signup_h,
        lam=lam,
        p=dropout_p,
        nu=nu,
        affinity=cumulative.tolist(),
        top_department=np.argmax(affinity, axis=1),
        style=style,
        review_bias=review_bias,
        alias=alias_ids,
        email_grant_h=email_grant,
        email_withdraw_h=email_withdraw,
        email_consent_final=email_final,
        has_email=has_email,
        handles=handles,
    )
    return rows, consents, aliases, population


def consent(
    rows: ConsentRows, customer: int, purpose: str, granted: bool, at: int, source: str
) -> None:
    rows.customer.append(customer)
    rows.purpose.append(purpose)
    rows.granted.append(granted)
    rows.recorded_at.append(at)
    rows.source.append(source)


def ascii_name(value: str) -> str:
    """A name as it would appear in an email address: ASCII letters and digits only."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def digits(rnd: random.Random, pattern: str) -> str:
    """Fill `{dN}` with N random digits and `{a}` with a plausible 3-digit area code."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "{":
            close = pattern.index("}", i)
            token = pattern[i + 1 : close]
            if token == "a":
                out.append(str(rnd.randint(201, 989)))
            else:
                out.append("".join(str(rnd.randrange(10)) for _ in range(int(token[1:]))))
            i = close + 1
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)
