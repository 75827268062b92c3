"""`manage.py experiment analyze|power`: A/B/n test statistics on summary files, and sample sizes.

experiment analyze --input F.csv --metric-type mean|proportion|ratio
                   --engine frequentist|bayesian [--sequential] [--sequential-tuning N]
                   [--difference-type relative|absolute] [--alpha A] [--weights w1,w2,...]
                   [--prior-mean M --prior-variance V] [--json]
    One row per variant, the first is the control: variant,n,sum,sum_squares (mean),
    variant,n,conversions (proportion) or variant,n,numerator_sum,numerator_sum_squares,
    denominator_sum,denominator_sum_squares,numerator_denominator_sum_products (ratio); optional
    sum_x,sum_x_squares,sum_xy columns (a pre-period covariate) switch CUPED on. Every treatment
    is compared with the control; the sample ratio mismatch check runs on the n column.
experiment power --metric-type proportion|mean --baseline B --mde E [--sd S] [--alpha A]
                 [--power P] [--variants K] [--mde-type relative|absolute] [--json]
    Units per variant for a two-sided test to detect the effect.

No database rows are read or written; the statistics live in apps.campaigns.engine.stats.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.campaigns.engine.stats import (
    DEFAULT_ALPHA,
    DEFAULT_SEQUENTIAL_TUNING,
    DIFFERENCE_TYPES,
    ENGINES,
    METRIC_TYPES,
    AnalysisConfig,
    ExperimentAnalysis,
    GaussianPrior,
    SampleSizeResult,
    StatisticsInputError,
    analyze_experiment,
    sample_size_mean,
    sample_size_proportion,
    variants_from_rows,
)


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _percent(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:+.2%}" if signed else f"{value:.2%}"


def _p_value(value: float) -> str:
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


class Command(BaseCommand):
    help = (
        "Experiments: analyse per-variant summary statistics (analyze), size an experiment (power)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        analyze = actions.add_parser(
            "analyze", help="Compare every treatment with the control (the first CSV row)."
        )
        analyze.add_argument("--input", required=True, help="Per-variant summary CSV.")
        analyze.add_argument(
            "--metric-type",
            required=True,
            choices=METRIC_TYPES,
            help="mean: variant,n,sum,sum_squares; proportion: variant,n,conversions; ratio: "
            "numerator/denominator sums, sums of squares and sum of products.",
        )
        analyze.add_argument("--engine", required=True, choices=ENGINES, help="Statistics engine.")
        analyze.add_argument(
            "--sequential",
            action="store_true",
            help="Always-valid confidence intervals and p-values, safe to peek at "
            "(frequentist engine only).",
        )
        analyze.add_argument(
            "--sequential-tuning",
            type=float,
            default=DEFAULT_SEQUENTIAL_TUNING,
            help="Total units at which the sequential interval is tightest "
            f"(default {DEFAULT_SEQUENTIAL_TUNING:g}).",
        )
        analyze.add_argument(
            "--difference-type",
            choices=DIFFERENCE_TYPES,
            default="relative",
            help="relative: treatment/control - 1 (default); absolute: treatment - control.",
        )
        analyze.add_argument(
            "--alpha",
            type=float,
            default=DEFAULT_ALPHA,
            help=f"Significance level; intervals are 1 - alpha (default {DEFAULT_ALPHA:g}).",
        )
        analyze.add_argument(
            "--weights",
            default=None,
            help="Planned traffic split for the sample ratio check, comma-separated in row "
            "order, e.g. 50,25,25 (default equal).",
        )
        analyze.add_argument(
            "--prior-mean",
            type=float,
            default=None,
            help="Bayesian engine: mean of a proper normal prior on the relative lift.",
        )
        analyze.add_argument(
            "--prior-variance",
            type=float,
            default=None,
            help="Bayesian engine: variance of that prior (default 0.09 when --prior-mean is "
            "given); without either the prior is flat.",
        )
        analyze.add_argument("--json", action="store_true", help="One JSON document on stdout.")

        power = actions.add_parser("power", help="Units per variant to detect an effect.")
        power.add_argument("--metric-type", required=True, choices=("proportion", "mean"))
        power.add_argument(
            "--baseline",
            type=float,
            required=True,
            help="Control conversion rate (proportion) or mean (mean).",
        )
        power.add_argument(
            "--mde",
            type=float,
            required=True,
            help="Minimum detectable effect, relative to the baseline by default (0.1 = +10%%).",
        )
        power.add_argument(
            "--mde-type",
            choices=DIFFERENCE_TYPES,
            default="relative",
            help="Whether --mde is relative to the baseline (default) or absolute.",
        )
        power.add_argument(
            "--sd",
            "--standard-deviation",
            dest="sd",
            type=float,
            default=None,
            help="Standard deviation per unit (mean metrics; required there).",
        )
        power.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="Default 0.05.")
        power.add_argument("--power", type=float, default=0.8, help="Default 0.8.")
        power.add_argument(
            "--variants",
            type=int,
            default=2,
            help="Variants including the control (default 2); sets the total only, as each "
            "treatment is tested at alpha (no Bonferroni correction).",
        )
        power.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except StatisticsInputError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(_clean(document), indent=2))
        elif options["action"] == "analyze":
            self._print_analysis(document)
        else:
            self._print_power(document)

    # ------------------------------------------------------------------ analyze
    def _analyze(self, options: dict[str, Any]) -> dict[str, Any]:
        path = Path(options["input"])
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                header = [name.strip() for name in reader.fieldnames or []]
                reader.fieldnames = header
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"cannot read {path}: {error}") from None
        if not header:
            raise CommandError(f"{path}: the file is empty (expected a header row)")
        try:
            variants = variants_from_rows(rows, options["metric_type"], header=header)
        except StatisticsInputError as error:
            raise CommandError(f"{path}: {error}") from None
        self.stderr.write(
            f"Analysing {len(variants)} variants from {path} (control: {variants[0].name})"
        )
        config = AnalysisConfig(
            engine=options["engine"],
            difference_type=options["difference_type"],
            alpha=options["alpha"],
            sequential=options["sequential"],
            sequential_tuning=options["sequential_tuning"],
            prior=self._prior(options),
            srm_weights=self._weights(options["weights"], len(variants)),
        )
        analysis = analyze_experiment(variants, config)
        return self._analysis_document(analysis)

    @staticmethod
    def _prior(options: dict[str, Any]) -> GaussianPrior:
        mean, variance = options["prior_mean"], options["prior_variance"]
        if mean is None and variance is None:
            return GaussianPrior()
        if options["engine"] != "bayesian":
            raise CommandError("--prior-mean/--prior-variance apply to --engine bayesian only")
        return GaussianPrior(
            mean=0.0 if mean is None else mean,
            variance=0.3**2 if variance is None else variance,
            proper=True,
        )

    @staticmethod
    def _weights(raw: str | None, count: int) -> tuple[float, ...] | None:
        if raw is None:
            return None
        try:
            weights = tuple(float(part) for part in raw.split(","))
        except ValueError:
            raise CommandError(f"--weights must be comma-separated numbers, got {raw!r}") from None
        if len(weights) != count:
            raise CommandError(f"--weights has {len(weights)} values for {count} variants")
        return weights

    @staticmethod
    def _analysis_document(analysis: ExperimentAnalysis) -> dict[str, Any]:
        config = analysis.config
        control = analysis.control
        results = []
        for result in analysis.comparisons:
            entry = asdict(result)
            entry["n"] = result.treatment_n
            entry["significant"] = (
                result.p_value < config.alpha
                if config.engine == "frequentist"
                else not result.ci_low <= 0 <= result.ci_high
            )
            results.append(entry)
        srm = asdict(analysis.srm)
        srm["variants"] = [variant.name for variant in analysis.variants]
        return {
            "engine": config.engine,
            "metric_type": analysis.metric_type,
            "difference_type": config.difference_type,
            "alpha": config.alpha,
            "sequential": config.sequential,
            "sequential_tuning": config.sequential_tuning if config.sequential else None,
            "cuped": analysis.cuped,
            "prior": asdict(config.prior) if config.engine == "bayesian" else None,
            "control": {
                "variant": control.name,
                "n": control.metric.n,
                "mean": control.metric.mean,
                "variance": control.metric.variance,
            },
            "variants": results,
            "srm": srm,
        }

    def _print_analysis(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        level = 1 - document["alpha"]
        mode = " (sequential)" if document["sequential"] else ""
        cuped = ", CUPED" if document["cuped"] else ""
        write(
            f"{document['engine']}{mode} analysis of a {document['metric_type']} metric, "
            f"{document['difference_type']} difference{cuped}"
        )
        relative = document["difference_type"] == "relative"
        interval = f"{level:.0%} {'CI' if document['engine'] == 'frequentist' else 'CrI'}"
        write(
            f"{'variant':16s}{'n':>10s}{'mean':>12s}{'lift':>10s}{interval:>28s}"
            f"{'p-value':>10s}{'P(win)':>9s}{'risk':>10s}"
        )
        control = document["control"]
        write(f"{control['variant'][:15]:16s}{control['n']:>10d}{control['mean']:>12.4g}")
        for entry in document["variants"]:
            if relative:
                lift = _percent(entry["lift"])
                bounds = f"[{_percent(entry['ci_low'])}, {_percent(entry['ci_high'])}]"
            else:
                lift = f"{entry['lift']:+.4g}"
                bounds = f"[{entry['ci_low']:+.4g}, {entry['ci_high']:+.4g}]"
            risk = entry["expected_loss"]
            write(
                f"{entry['variant'][:15]:16s}{entry['n']:>10d}{entry['treatment_mean']:>12.4g}"
                f"{lift:>10s}{bounds:>28s}{_p_value(entry['p_value']):>10s}"
                f"{_percent(entry['chance_to_win'], signed=False):>9s}"
                f"{'-' if risk is None else format(risk, '.4g'):>10s}"
            )
        srm = document["srm"]
        verdict = "MISMATCH: check the assignment" if srm["mismatch"] else "no mismatch"
        write(
            f"sample ratio check: chi-square {srm['chi_square']:.3f}, "
            f"p = {srm['p_value']:.4g} ({verdict})"
        )

    # ------------------------------------------------------------------ power
    def _power(self, options: dict[str, Any]) -> dict[str, Any]:
        relative = options["mde_type"] == "relative"
        result: SampleSizeResult
        if options["metric_type"] == "proportion":
            if options["sd"] is not None:
                raise CommandError("--sd applies to --metric-type mean only")
            result = sample_size_proportion(
                baseline_rate=options["baseline"],
                minimum_detectable_effect=options["mde"],
                alpha=options["alpha"],
                power=options["power"],
                variants=options["variants"],
                relative=relative,
            )
        else:
            if options["sd"] is None:
                raise CommandError("--sd is required for --metric-type mean")
            result = sample_size_mean(
                baseline_mean=options["baseline"],
                standard_deviation=options["sd"],
                minimum_detectable_effect=options["mde"],
                alpha=options["alpha"],
                power=options["power"],
                variants=options["variants"],
                relative=relative,
            )
        return asdict(result)

    def _print_power(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        effect = document["minimum_detectable_effect"]
        shown = _percent(effect) if document["relative"] else f"{effect:+g}"
        write(
            f"{document['metric_type']} metric: baseline {document['baseline']:g} -> "
            f"{document['treatment_value']:g} ({shown}), alpha {document['alpha']:g}, "
            f"power {document['power']:g}"
        )
        write(f"per variant: {document['n_per_variant']:,}")
        write(f"total ({document['variants']} variants): {document['total_n']:,}")
