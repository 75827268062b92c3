"""What people say about the demo shop's products: reviews and social posts.

Pure: numpy and the standard library only, no Django. A review's star rating is the product's
latent quality plus the customer's bias plus noise (a refund costs stars); its title and text
come from the phrase bank of that rating's sentiment, in the customer's language. A social post
mentions a product and carries a sentiment drawn around the product's quality; English authors
post on Twitter/Instagram, Chinese ones on Weibo/Xiaohongshu.
"""

from __future__ import annotations

import itertools
import random

import numpy as np

from apps.core.demo.baskets import OrderFacts
from apps.core.demo.context import ShopContext
from apps.core.demo.population import Population, ascii_name
from apps.core.demo.rows import OrderRows, ReviewRows, SocialPostRows

REVIEWABLE = ("completed", "refunded")


def write_reviews(
    shop: ShopContext, index: int, population: Population, orders: OrderRows, facts: OrderFacts
) -> ReviewRows:
    """Reviews of delivered lines; the rating follows product quality plus customer bias."""
    rnd = shop.random("reviews", index)
    config = shop.config.behaviour["reviews"]
    latent = shop.catalog.latent
    reviews = ReviewRows()
    share = float(config["line_share"])
    multiplier = [s.review_multiplier for s in shop.segments]
    delay_low, delay_high = (float(x) for x in config["delay_days"])
    end = shop.spec.start_epoch + shop.hours * 3600
    for k, status in enumerate(facts.status):
        if status not in REVIEWABLE:
            continue
        c = orders.customer[k]
        language = population.language[c]
        rate = share * multiplier[int(population.segment[c])]
        for product in facts.lines[k]:
            if rnd.random() >= rate:
                continue
            at = orders.placed_at[k] + int(rnd.uniform(delay_low, delay_high) * 86400)
            if at >= end:
                continue
            score = (
                float(config["base"])
                + float(config["quality_effect"]) * float(latent.quality[product])
                + float(population.review_bias[c])
                + rnd.gauss(0.0, float(config["noise_sd"]))
            )
            if status == "refunded":
                score -= float(config["refund_penalty"])
            rating = min(5, max(1, round(score)))
            sentiment = "positive" if rating >= 4 else "neutral" if rating == 3 else "negative"
            title, text = shop.texts.review(rnd, language, sentiment, latent.words[product])
            reviews.external_id.append(f"demo-r{shop.next_id('review'):07d}")
            reviews.product.append(product)
            reviews.customer.append(c)
            reviews.rating.append(rating)
            reviews.title.append(title)
            reviews.text.append(text)
            reviews.language.append(language)
            reviews.reviewed_at.append(at)
    return reviews


def write_social_posts(
    shop: ShopContext, index: int, population: Population, orders: OrderRows, facts: OrderFacts
) -> tuple[SocialPostRows, list[str]]:
    """Posts about products (and their latent sentiment): by customers and by strangers."""
    rng, rnd = shop.rng("social", index), shop.random("social", index)
    config = shop.config.behaviour["social"]
    latent = shop.catalog.latent
    posts = SocialPostRows()
    sentiments: list[str] = []
    hours = float(shop.hours)
    rate = float(config["posts_per_customer"])
    linked_share = float(config["linked_share"])
    segments = shop.segments
    # Scale so that linked posts average rate * linked_share per customer across segments.
    norm = sum(
        s.share * s.social_multiplier * s.first_purchase_probability for s in segments
    ) / sum(s.share for s in segments)
    multiplier = np.array([s.social_multiplier for s in segments])[population.segment]
    purchased: dict[int, list[tuple[int, int]]] = {}
    for k, products in enumerate(facts.lines):
        purchased.setdefault(orders.customer[k], []).extend(
            (product, orders.placed_at[k]) for product in products
        )
    linked = rng.poisson(rate * linked_share * multiplier / norm)
    authors: list[tuple[int, str]] = []
    for c in range(population.n):
        if c in purchased:
            authors.extend((c, population.language[c]) for _ in range(int(linked[c])))
    unlinked = int(rng.poisson(rate * (1.0 - linked_share) * population.n))
    zh_share = float(config["zh_share_unlinked"])
    authors.extend((-1, "zh" if rnd.random() < zh_share else "en") for _ in range(unlinked))
    end = shop.spec.start_epoch + int(hours * 3600)
    popularity = list(itertools.accumulate(latent.popularity.tolist()))
    products_all = range(len(popularity))
    platforms = config["platforms"]
    for c, language in authors:
        if c >= 0 and rnd.random() < 0.75:
            product, bought_at = rnd.choice(purchased[c])
            at = bought_at + int(rnd.uniform(2, 20) * 86400)
            if at >= end:
                at = rnd.randint(bought_at, end - 1)
            handle = population.handles[c]
        else:
            product = rnd.choices(products_all, cum_weights=popularity)[0]
            low = shop.epoch(float(population.signup_h[c])) if c >= 0 else shop.spec.start_epoch
            at = rnd.randint(low, end - 1)
            handle = population.handles[c] if c >= 0 else _stranger_handle(shop, rnd, language)
        score = float(latent.quality[product]) + rnd.gauss(0.0, float(config["sentiment_noise_sd"]))
        sentiment = (
            "positive"
            if score > float(config["positive_above"])
            else "negative"
            if score < float(config["negative_below"])
            else "neutral"
        )
        names = platforms[language]
        platform = rnd.choices(list(names), weights=[float(w) for w in names.values()])[0]
        likes = int(
            rnd.lognormvariate(
                float(config["likes_log_mean"][platform]), float(config["likes_log_sd"])
            )
        )
        shares = int(rng.binomial(likes, float(config["share_rate"][sentiment]))) if likes else 0
        external_id = f"demo-s{shop.next_id('social'):07d}"
        posts.platform.append(platform)
        posts.external_id.append(external_id)
        posts.author_handle.append(handle)
        posts.customer.append(c)
        posts.product.append(product)
        posts.text.append(
            shop.texts.social(rnd, language, sentiment, platform, latent.words[product])
        )
        posts.language.append(language)
        posts.likes.append(likes)
        posts.shares.append(shares)
        posts.posted_at.append(at)
        sentiments.append(sentiment)
    return posts, sentiments


def _stranger_handle(shop: ShopContext, rnd: random.Random, language: str) -> str:
    names = shop.config.customers["names"][language]
    given = rnd.choice(names[rnd.choice(("female", "male"))])
    family = rnd.choice(names["last"])
    if language == "zh":
        return f"{given[1]}{family[1]}{rnd.randrange(100, 9999)}"
    return f"{ascii_name(given)}{rnd.choice(('', '_'))}{ascii_name(family)}{rnd.randrange(1, 999)}"
