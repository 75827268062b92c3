"""The optimisation page: tomorrow's budget split between creatives (a Thompson-sampling
bandit fed by ad events), and a simulator that shows such a bandit converging."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.campaigns.engine.bandit import simulate
from apps.campaigns.services.optimisation import REWARDS, creative_allocation
from apps.campaigns.web.views import READ
from apps.core.errors import DomainError
from apps.core.web.decorators import scope_required

DEFAULT_RATES = "0.020, 0.025, 0.032"


def _rates(text: str) -> list[float]:
    rates = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    if len(rates) < 2 or not all(0 <= rate <= 1 for rate in rates):
        raise ValueError("give at least two rates between 0 and 1, e.g. 0.02, 0.03")
    return rates


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    context: dict = {"rewards": REWARDS}
    # the live allocation
    try:
        budget = Decimal(request.GET.get("budget", "100"))
    except InvalidOperation:
        budget = Decimal("100")
    reward = request.GET.get("reward", "click_rate")
    try:
        arms, allocation = creative_allocation(daily_budget=budget, reward=reward)
        context.update(arms=arms, allocation=allocation, budget=budget, reward=reward)
    except DomainError as error:
        context.update(allocation_error=error.message, budget=budget, reward=reward)
    # the simulator
    rates_text = request.GET.get("rates", DEFAULT_RATES)
    try:
        days = max(2, min(int(request.GET.get("days", "28")), 120))
        traffic = max(100, min(int(request.GET.get("traffic", "2000")), 100_000))
        rates = _rates(rates_text)
        result = simulate(rates, days=days, daily_traffic=traffic, seed=7)
        context["simulation"] = result.to_dict()
        context["share_chart"] = {
            "labels": [f"Day {day.day}" for day in result.days],
            "values": [round(100 * day.best_arm_share, 1) for day in result.days],
        }
        context["regret_chart"] = {
            "labels": [f"Day {day.day}" for day in result.days],
            "values": [
                round(day.baseline_cumulative_regret - day.cumulative_regret, 1)
                for day in result.days
            ],
        }
    except ValueError as error:
        context["simulation_error"] = str(error)
        days, traffic = 28, 2000
    context.update(rates_text=rates_text, days=days, traffic=traffic)
    return render(request, "campaigns/optimise.html", context)
