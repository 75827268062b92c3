"""Customer intelligence: one row of scores per customer, read by segments, profiles and the API."""

from __future__ import annotations

from django.db import models

from apps.segments.choices import LifecycleStage, RfmCell


class CustomerScores(models.Model):
    """Every predictive and derived field of one customer, one row per customer.

    Each group (RFM/lifecycle, cluster, CLV, churn, propensity) is written by its own service
    with the model version that produced it and when; segments compile conditions on these
    columns into joins, so they are plain indexed columns, not a key-value table.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="scores"
    )
    # RFM and lifecycle (rule-based, no model version).
    rfm_recency = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5 quintile.")
    rfm_frequency = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5.")
    rfm_monetary = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5.")
    rfm_cell = models.CharField(max_length=24, choices=RfmCell.choices, blank=True)
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    rfm_computed_at = models.DateTimeField(null=True, blank=True)
    # Clustering.
    cluster = models.SmallIntegerField(null=True, blank=True, help_text="Cluster number.")
    cluster_name = models.CharField(max_length=120, blank=True)
    cluster_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Customer lifetime value.
    clv_historical = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    clv_discounted = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    clv_12m = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Predicted 12-month CLV."
    )
    p_alive = models.FloatField(null=True, blank=True, help_text="BG/NBD P(alive), 0-1.")
    expected_purchases_90d = models.FloatField(null=True, blank=True)
    clv_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Churn and purchase propensity.
    churn_risk = models.FloatField(null=True, blank=True, help_text="P(no purchase), 0-1.")
    churn_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purchase_propensity = models.FloatField(null=True, blank=True, help_text="P(purchase), 0-1.")
    propensity_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    explanations = models.JSONField(
        default=dict,
        blank=True,
        help_text="Top feature contributions per score, e.g. {'churn': [[feature, value], ...]}.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "customer scores"
        indexes = [
            models.Index(fields=["rfm_cell"], name="scores_rfm_cell"),
            models.Index(fields=["lifecycle_stage"], name="scores_lifecycle"),
            models.Index(fields=["cluster"], name="scores_cluster"),
            models.Index(fields=["clv_12m"], name="scores_clv"),
            models.Index(fields=["churn_risk"], name="scores_churn"),
            models.Index(fields=["purchase_propensity"], name="scores_propensity"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(p_alive__gte=0, p_alive__lte=1) | models.Q(p_alive__isnull=True),
                name="scores_p_alive_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"scores of {self.customer_id}"
