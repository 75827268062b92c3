"""`manage.py bandit simulate|allocate`: Thompson-sampling bandit for creatives and channels.

bandit simulate --rates 0.02,0.03,0.05 [--days 30] [--daily-traffic 1000 | --daily-budget B
                --cost-per-impression C[,C...]] [--floor 0.01] [--draws 10000] [--seed 7] [--json]
    Replays the bandit against known true rates, day by day; prints the best arm's share per
    day, the final allocation and the cumulative regret against an equal split.
bandit allocate --input arms.csv [--budget 100] [--reward click_rate] [--floor 0.01]
                [--prior pooled|uniform] [--pause a,b] [--draws 10000] [--seed 0] [--json]
    Shares (and with --budget amounts that sum exactly to it) per arm from a CSV with columns
    arm,impressions,clicks[,conversions,cost,revenue], with posterior summaries and the
    stopping rule's verdict.
No database rows are read or written.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.campaigns.engine.bandit import (
    DEFAULT_DRAWS,
    DEFAULT_FLOOR,
    PRIORS,
    REWARDS,
    Allocation,
    ArmFileError,
    allocate,
    read_arms_csv,
    simulate,
)


class Command(BaseCommand):
    help = (
        "Bandit optimisation of creatives and channels: replay it on known rates (simulate), "
        "split traffic or a budget between arms from a CSV (allocate)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        run = actions.add_parser("simulate", help="Simulate the bandit against known true rates.")
        run.add_argument(
            "--rates", required=True, help="True rates per arm, comma-separated (0.02,0.03,0.05)."
        )
        run.add_argument("--days", type=int, default=30, help="Days to simulate (default 30).")
        run.add_argument(
            "--daily-traffic", type=int, default=1000, help="Impressions a day (default 1000)."
        )
        run.add_argument(
            "--daily-budget",
            default=None,
            help="Spend a day instead of traffic (needs --cost-per-impression).",
        )
        run.add_argument(
            "--cost-per-impression",
            default=None,
            help="Cost per impression, one value or one per arm (comma-separated).",
        )
        self._common(run, seed=7)

        split = actions.add_parser("allocate", help="Split traffic or a budget between arms.")
        split.add_argument(
            "--input",
            required=True,
            help="CSV with columns arm,impressions,clicks[,conversions,cost,revenue].",
        )
        split.add_argument("--budget", default=None, help="Daily budget to split (e.g. 100).")
        split.add_argument(
            "--reward",
            default="click_rate",
            choices=REWARDS,
            help="What an arm is judged on (default click_rate; *_per_cost need the cost column).",
        )
        split.add_argument(
            "--prior",
            default="pooled",
            choices=PRIORS,
            help="Beta prior: one pseudo-event at the arms' pooled rate (default) or uniform.",
        )
        split.add_argument(
            "--pause", default="", help="Arms to exclude, comma-separated (they get nothing)."
        )
        self._common(split, seed=0)

    @staticmethod
    def _common(parser: CommandParser, *, seed: int) -> None:
        parser.add_argument(
            "--floor",
            type=float,
            default=DEFAULT_FLOOR,
            help=f"Minimum share per active arm, for exploration (default {DEFAULT_FLOOR:g}).",
        )
        parser.add_argument(
            "--draws",
            type=int,
            default=DEFAULT_DRAWS,
            help=f"Monte Carlo draws from the posteriors (default {DEFAULT_DRAWS}).",
        )
        parser.add_argument("--seed", type=int, default=seed, help=f"Random seed (default {seed}).")
        parser.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except (ArmFileError, ValueError) as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2))
        elif options["action"] == "simulate":
            self._print_simulation(document)
        else:
            self._print_allocation(document)

    def _progress(self, percent: float, message: str) -> None:
        self.stderr.write(f"[{percent:3.0f}%] {message}")

    def _simulate(self, options: dict[str, Any]) -> dict[str, Any]:
        rates = _numbers("--rates", options["rates"])
        costs = None
        if options["cost_per_impression"] is not None:
            costs = _numbers("--cost-per-impression", options["cost_per_impression"])
        budget = options["daily_budget"]
        if budget is not None and costs is None:
            raise CommandError("--daily-budget needs --cost-per-impression")
        if costs is not None and budget is None:
            raise CommandError("--cost-per-impression needs --daily-budget")
        simulation = simulate(
            rates,
            days=options["days"],
            daily_traffic=None if budget is not None else options["daily_traffic"],
            daily_budget=budget,
            cost_per_impression=costs[0] if costs is not None and len(costs) == 1 else costs,
            seed=options["seed"],
            floor=options["floor"],
            draws=options["draws"],
            progress=self._progress if options["days"] >= 10 else None,
        )
        return simulation.to_dict()

    def _allocate(self, options: dict[str, Any]) -> dict[str, Any]:
        path = Path(options["input"])
        arms = read_arms_csv(path)
        paused = {name.strip() for name in options["pause"].split(",") if name.strip()}
        unknown = sorted(paused - {arm.name for arm in arms})
        if unknown:
            raise CommandError(f"--pause: no arm called {', '.join(unknown)} in {path}")
        arms = [replace(arm, paused=arm.name in paused) for arm in arms]
        self.stderr.write(f"{len(arms)} arms from {path}, {options['draws']} posterior draws")
        allocation: Allocation = allocate(
            arms,
            options["budget"],
            reward=options["reward"],
            floor=options["floor"],
            draws=options["draws"],
            seed=options["seed"],
            prior=options["prior"],
        )
        return allocation.to_dict()

    # ------------------------------------------------------------------ text output
    def _print_simulation(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        rates = ", ".join(
            f"{name} {rate:g}"
            for name, rate in zip(document["arms"], document["true_rates"], strict=True)
        )
        write(f"true rates: {rates} (best {document['best_arm']}), mode {document['mode']}")
        write(f"{'day':>4s}{'best share':>12s}{'regret':>12s}{'equal split':>13s}")
        for day in document["days"]:
            write(
                f"{day['day']:4d}{day['best_arm_share']:12.3f}{day['cumulative_regret']:12.1f}"
                f"{day['baseline_cumulative_regret']:13.1f}"
            )
        self._print_allocation(document["final"], title="allocation for the next day")
        reduction = document["regret_reduction"]
        write(
            f"cumulative regret {document['cumulative_regret']:.1f} vs equal split "
            f"{document['baseline_regret']:.1f}"
            + (f" ({reduction:.0%} less)" if reduction is not None else "")
            + f"; expected events {document['expected_events']:.1f} vs "
            f"{document['baseline_expected_events']:.1f} (optimum "
            f"{document['optimal_expected_events']:.1f})"
        )

    def _print_allocation(self, document: dict[str, Any], title: str = "allocation") -> None:
        write = self.stdout.write
        budget = document["budget_cents"] is not None
        write(f"{title} (reward {document['reward']}):")
        write(
            f"{'arm':16s}{'share':>8s}"
            + (f"{'amount':>12s}" if budget else "")
            + f"{'mean':>11s}{'95% interval':>22s}{'P(best)':>9s}{'exp. loss':>11s}"
        )
        for arm in document["arms"]:
            interval = f"[{arm['ci_low']:.4g}, {arm['ci_high']:.4g}]"
            best = "paused" if arm["paused"] else f"{arm['prob_best']:.3f}"
            loss = "" if arm["expected_loss"] is None else f"{arm['expected_loss']:.2e}"
            write(
                f"{arm['arm']:16s}{arm['share']:8.3f}"
                + (f"{arm['amount']:12.2f}" if budget else "")
                + f"{arm['mean']:11.4g}{interval:>22s}{best:>9s}{loss:>11s}"
            )
        if document["winner"]:
            write(f"winner: {document['winner']} (stop the test, keep the floor or pause the rest)")
        else:
            write(f"no winner yet; leader {document['leader']} (keep exploring)")


def _numbers(flag: str, text: str) -> list[float]:
    numbers = []
    for position, part in enumerate(text.split(","), start=1):
        try:
            numbers.append(float(part))
        except ValueError:
            raise CommandError(
                f"{flag}: value {position} ({part.strip()!r}) is not a number"
            ) from None
    return numbers
