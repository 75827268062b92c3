"""Shapes of the predictions API: churn and purchase propensity models and their runs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class PredictionRunSerializer(serializers.Serializer):
    """A training run of a prediction model (a TrainingRun of the ML platform)."""

    id = serializers.IntegerField(help_text="Training run id (GET /api/v1/ml/runs/{id}).")
    kind = serializers.CharField(help_text="ML kind: segments.churn or segments.propensity.")
    status = serializers.CharField(
        help_text="queued, running, succeeded, failed, not_enough_data or lost."
    )
    progress = serializers.IntegerField(help_text="Percent done, 0-100.")
    progress_message = serializers.CharField(help_text="What the run is doing now.")
    params = serializers.DictField(help_text="horizon_days, active_days (churn), seed.")
    error = serializers.SerializerMethodField(
        help_text="Why it failed or had not enough data (first line); empty otherwise."
    )
    created_at = serializers.DateTimeField(help_text="When it was queued.")
    finished_at = serializers.DateTimeField(allow_null=True, help_text="When it ended.")

    def get_error(self, run: Any) -> str:
        return run.error.splitlines()[0] if run.error else ""


class ModelVersionSummarySerializer(serializers.Serializer):
    """The serving (champion) version of a prediction model."""

    id = serializers.IntegerField(help_text="Model version id (GET /api/v1/ml/models).")
    version = serializers.IntegerField(help_text="1, 2, 3 ... per kind.")
    created_at = serializers.DateTimeField(help_text="When it was published.")


class PredictionSerializer(serializers.Serializer):
    """One prediction model: its champion's backtest metrics and the stored scores."""

    kind = serializers.CharField(source="kind.name", help_text="churn or propensity.")
    ml_kind = serializers.CharField(
        source="kind.ml_kind", help_text="The ML platform kind it trains as."
    )
    label = serializers.CharField(source="kind.label", help_text="Readable name.")
    score_field = serializers.CharField(
        source="kind.score_field",
        help_text="The customer score it writes: churn_risk or purchase_propensity.",
    )
    model_version = ModelVersionSummarySerializer(
        source="champion", allow_null=True, help_text="The serving version; null before training."
    )
    metrics = serializers.DictField(
        help_text="Backtest metrics of the champion: auc, log_loss, model, brier, "
        "calibration_error, base_rate, n_train, n_test, horizon_days, train_cut, test_cut, "
        "calibration [{mean_predicted, observed_rate, rows}], lift_by_decile [{decile, rows, "
        "positives, rate, lift, cumulative_lift, cumulative_capture}], feature_importance; "
        "empty before training."
    )
    latest_run = PredictionRunSerializer(
        allow_null=True, help_text="The newest training run of this kind, whatever its status."
    )
    scored_customers = serializers.IntegerField(help_text="Customers holding a score now.")
    scored_version = serializers.IntegerField(
        allow_null=True, help_text="Model version the stored scores came from."
    )
    scores_pending = serializers.BooleanField(
        help_text="True when the champion is newer than the stored scores (refresh pending)."
    )
    mean_score = serializers.FloatField(
        allow_null=True, help_text="Mean stored score (0-1); null when none."
    )


class PredictionTrainSerializer(serializers.Serializer):
    """Options of a training run; omitted ones take the kind's defaults."""

    horizon_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        help_text="Days after the cut the label looks at (default: churn 90, propensity 30).",
    )
    active_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Churn only: a customer is active with an order in this many days before "
        "the cut (default 365).",
    )
