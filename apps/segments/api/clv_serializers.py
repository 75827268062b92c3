"""Shapes of the customer lifetime value API."""

from __future__ import annotations

from rest_framework import serializers


class BgNbdSerializer(serializers.Serializer):
    r = serializers.FloatField(help_text="Shape of the Gamma distribution of purchase rates.")
    alpha = serializers.FloatField(
        help_text="Rate (scale) of that Gamma, in the fit's time unit; r / alpha is the mean "
        "purchase rate per unit."
    )
    a = serializers.FloatField(help_text="First shape of the Beta distribution of dropout.")
    b = serializers.FloatField(
        help_text="Second shape of that Beta; a / (a + b) is the mean dropout probability."
    )
    log_likelihood = serializers.FloatField(help_text="Maximised log-likelihood.")
    customers = serializers.IntegerField(help_text="Customers the model was fitted on.")
    converged = serializers.BooleanField(help_text="Whether the optimiser reached the optimum.")


class GammaGammaSerializer(serializers.Serializer):
    p = serializers.FloatField(help_text="Shape of the Gamma distribution of purchase values.")
    q = serializers.FloatField(help_text="Shape of the Gamma of customers' spend rates.")
    v = serializers.FloatField(help_text="Scale of that Gamma, in the currency of the orders.")
    log_likelihood = serializers.FloatField(help_text="Maximised log-likelihood.")
    customers = serializers.IntegerField(
        help_text="Repeat buyers (with a positive average repeat value) it was fitted on."
    )
    mean_spend = serializers.FloatField(
        allow_null=True, help_text="Mean value of a purchase, p v / (q - 1); null for q <= 1."
    )
    converged = serializers.BooleanField(help_text="Whether the optimiser reached the optimum.")


class IndependenceCheckSerializer(serializers.Serializer):
    pearson = serializers.FloatField(
        allow_null=True,
        help_text="Correlation of repeat purchases and average repeat value among repeat "
        "buyers; null when it cannot be measured.",
    )
    spearman = serializers.FloatField(allow_null=True, help_text="The same, by ranks.")
    customers = serializers.IntegerField(help_text="Repeat buyers it was measured on.")
    weak = serializers.BooleanField(
        help_text="|pearson| below the threshold: Gamma-Gamma's independence assumption holds."
    )
    threshold = serializers.FloatField(help_text="The threshold of `weak` (0.3).")


class FrequencyBucketSerializer(serializers.Serializer):
    frequency = serializers.CharField(
        help_text="Repeat purchases in the calibration period: 0, 1, ... 6 or 7+."
    )
    customers = serializers.IntegerField(help_text="Customers with that frequency.")
    actual = serializers.FloatField(help_text="Mean repeat purchases in the holdout, observed.")
    predicted = serializers.FloatField(help_text="Mean repeat purchases in the holdout, predicted.")


class DiagnosticsSerializer(serializers.Serializer):
    calibration_end = serializers.DateField(help_text="Last day of the calibration period.")
    holdout_end = serializers.DateField(help_text="Last day of the holdout period.")
    holdout_length = serializers.FloatField(help_text="Length of the holdout in time units.")
    customers = serializers.IntegerField(help_text="Customers of the calibration period.")
    actual_total = serializers.FloatField(help_text="Repeat purchases made in the holdout.")
    predicted_total = serializers.FloatField(help_text="Repeat purchases predicted for it.")
    total_error = serializers.FloatField(
        allow_null=True, help_text="(predicted - actual) / actual; null without purchases."
    )
    buckets = FrequencyBucketSerializer(many=True, help_text="Predicted vs actual by frequency.")


class DistributionBandSerializer(serializers.Serializer):
    low = serializers.FloatField(help_text="Lower end of the band of predicted 12-month CLV.")
    high = serializers.FloatField(help_text="Upper end (exclusive).")
    customers = serializers.IntegerField(help_text="Customers in the band.")
    open = serializers.BooleanField(help_text="The last band also holds everyone above it.")


class PredictionsSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(
        allow_null=True, help_text="Version whose predictions are stored; null before any."
    )
    customers = serializers.IntegerField(help_text="Customers with stored predictions.")
    total_clv_12m = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="Sum of predicted 12-month CLV."
    )
    total_historical = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="Sum of historical CLV."
    )
    mean_p_alive = serializers.FloatField(allow_null=True, help_text="Mean P(alive), 0-1.")
    expected_purchases_90d = serializers.FloatField(
        allow_null=True, help_text="Purchases expected from all of them in the next 90 days."
    )
    distribution = DistributionBandSerializer(
        many=True, help_text="Customers per band of predicted 12-month CLV."
    )


class TopCustomerSerializer(serializers.Serializer):
    external_id = serializers.CharField(help_text="The customer's id in the shop.")
    name = serializers.CharField(help_text="First and last name, if known.")
    clv_12m = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Predicted CLV of the next 12 months."
    )
    clv_historical = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Revenue so far."
    )
    p_alive = serializers.FloatField(allow_null=True, help_text="P(alive), 0-1.")
    expected_purchases_90d = serializers.FloatField(
        allow_null=True, help_text="Purchases expected in the next 90 days."
    )


class ClvRunSerializer(serializers.Serializer):
    """A `segments.clv` training run of the ML platform."""

    id = serializers.IntegerField(help_text="Training run id (see /api/v1/ml/runs/{id}).")
    kind = serializers.CharField(help_text="Always segments.clv.")
    status = serializers.CharField(
        help_text="queued, running, succeeded, failed, not_enough_data or lost."
    )
    progress = serializers.IntegerField(help_text="Percent done, 0-100.")
    progress_message = serializers.CharField(help_text="What the run is doing now.")
    params = serializers.DictField(help_text="Parameters, defaults filled in.")
    error = serializers.CharField(help_text="Why it failed or had not enough data; else empty.")
    created_at = serializers.DateTimeField(help_text="When it was started.")


class ClvOverviewSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(
        allow_null=True, help_text="The serving (champion) version; null before the first fit."
    )
    model_version_id = serializers.IntegerField(
        allow_null=True, help_text="Its id (see /api/v1/ml/models)."
    )
    stale = serializers.BooleanField(
        help_text="The champion's predictions are not the stored ones yet (stored within minutes)."
    )
    as_of = serializers.CharField(help_text="Day of the latest order the fit saw (YYYY-MM-DD).")
    time_unit = serializers.CharField(help_text="D (days) or W (weeks) of alpha and recency.")
    params = serializers.DictField(help_text="Fit parameters (time_unit, holdout_days ...).")
    bgnbd = BgNbdSerializer(allow_null=True, help_text="Fitted BG/NBD; null before a fit.")
    gamma_gamma = GammaGammaSerializer(
        allow_null=True, help_text="Fitted Gamma-Gamma; null before a fit."
    )
    customers = serializers.IntegerField(help_text="Customers in the fit's summary.")
    repeat_customers = serializers.IntegerField(help_text="Of them, with a repeat purchase.")
    independence_check = IndependenceCheckSerializer(
        allow_null=True, help_text="Correlation of frequency and spend (Gamma-Gamma assumption)."
    )
    diagnostics = DiagnosticsSerializer(
        allow_null=True,
        help_text="Fit on the history before the last holdout_days, compared with what "
        "customers did in them; null without enough history.",
    )
    predictions = PredictionsSerializer(help_text="The predictions stored in customers' scores.")
    top_customers = TopCustomerSerializer(many=True, help_text="Highest predicted 12-month CLV.")
    latest_run = ClvRunSerializer(allow_null=True, help_text="The latest fit, whatever its end.")


class ClvFitSerializer(serializers.Serializer):
    time_unit = serializers.ChoiceField(
        choices=["D", "W"], required=False, help_text="D (days, default) or W (weeks)."
    )
    holdout_days = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=730,
        help_text="Days at the end held out for the diagnostics (default 90; 0: none).",
    )
    monthly_discount_rate = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="Discount rate per month of discounted and predicted CLV (default 0.01).",
    )
    months = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=120,
        help_text="Horizon of the predicted-CLV total in the run's metrics (default 12; the "
        "stored clv_12m is always 12 months).",
    )
