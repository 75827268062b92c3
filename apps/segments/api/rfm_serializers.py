"""Shapes of the RFM, lifecycle and clusters API."""

from __future__ import annotations

from rest_framework import serializers

from apps.segments.engine.clustering import ALGORITHMS


class RfmCellCountSerializer(serializers.Serializer):
    cell = serializers.CharField(help_text="Cell key, e.g. champions, at_risk, cant_lose_them.")
    label = serializers.CharField(help_text="Display name, e.g. Can't lose them.")
    customers = serializers.IntegerField(help_text="Customers in the cell now.")


class RfmSquareSerializer(serializers.Serializer):
    recency = serializers.IntegerField(help_text="R score 1-5 (5 = bought most recently).")
    frequency_monetary = serializers.IntegerField(
        help_text="FM score 1-5: (F + M) / 2 rounded half up."
    )
    cell = serializers.CharField(help_text="The named cell this square belongs to.")
    customers = serializers.IntegerField(help_text="Customers with these R and FM scores.")


class LifecycleCountSerializer(serializers.Serializer):
    stage = serializers.CharField(
        help_text="prospect, new, active, returning, loyal, at_risk or lapsed."
    )
    label = serializers.CharField(help_text="Display name of the stage.")
    customers = serializers.IntegerField(help_text="Customers in the stage now.")


class RfmOverviewSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the scores were last computed; null before the first run."
    )
    customers_scored = serializers.IntegerField(help_text="Customers with a lifecycle stage.")
    buyers = serializers.IntegerField(help_text="Customers with RFM scores (at least one order).")
    cells = RfmCellCountSerializer(many=True, help_text="Every cell, best first, with counts.")
    grid = RfmSquareSerializer(many=True, help_text="The 25 squares of the R x FM grid.")
    stages = LifecycleCountSerializer(many=True, help_text="Every lifecycle stage with counts.")
    boundaries = serializers.DictField(
        help_text="Per dimension, the value that starts each score 1-5 "
        "(recency_days_at_most, frequency_at_least, monetary_at_least)."
    )
    shop_cycle_days = serializers.FloatField(
        allow_null=True, help_text="Shop-wide median days between purchases (lifecycle fallback)."
    )


class RunSerializer(serializers.Serializer):
    """A training run of the ML platform, as started here."""

    id = serializers.IntegerField(help_text="Training run id (see /api/v1/ml/runs/{id}).")
    kind = serializers.CharField(help_text="segments.rfm or segments.clusters.")
    status = serializers.CharField(
        help_text="queued, running, succeeded, failed, not_enough_data or lost."
    )
    progress = serializers.IntegerField(help_text="Percent done, 0-100.")
    progress_message = serializers.CharField(help_text="What the run is doing now.")
    params = serializers.DictField(help_text="Parameters, defaults filled in.")
    error = serializers.CharField(
        help_text="Why it failed or had not enough data; empty otherwise."
    )
    created_at = serializers.DateTimeField(help_text="When it was started.")


class ClusterRunCreateSerializer(serializers.Serializer):
    k_min = serializers.IntegerField(
        required=False, min_value=2, max_value=20, help_text="Smallest k tried (default 3)."
    )
    k_max = serializers.IntegerField(
        required=False, min_value=2, max_value=20, help_text="Largest k tried (default 8)."
    )
    algorithm = serializers.ChoiceField(
        choices=list(ALGORITHMS),
        required=False,
        help_text="auto (better silhouette of the two), kmeans or gmm (default auto).",
    )
    seed = serializers.IntegerField(
        required=False, min_value=0, help_text="Random seed: same data and seed, same clusters."
    )


class SegmentSaveSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text="Segment name; defaults to 'RFM: <cell>' or 'Cluster: <name> (v<version>)'.",
    )


class SavedSegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Segment id.")
    name = serializers.CharField(help_text="Segment name.")
    kind = serializers.CharField(
        help_text="dynamic (an RFM cell: follows recomputes) or static (a cluster snapshot)."
    )
    member_count = serializers.IntegerField(help_text="Members now.")


class ClusterFeatureSerializer(serializers.Serializer):
    feature = serializers.CharField(help_text="Feature key, e.g. average_order_value.")
    label = serializers.CharField(help_text="Readable feature name.")
    mean = serializers.FloatField(allow_null=True, help_text="Mean in the cluster.")
    overall = serializers.FloatField(
        allow_null=True, help_text="Mean over all clustered customers."
    )
    difference = serializers.FloatField(
        help_text="(cluster mean - overall mean) / overall standard deviation."
    )


class ClusterProfileSerializer(serializers.Serializer):
    cluster = serializers.IntegerField(help_text="Cluster number; 0 is the largest.")
    name = serializers.CharField(help_text="Generated descriptive name.")
    size = serializers.IntegerField(help_text="Customers in the cluster when it was fitted.")
    share = serializers.FloatField(help_text="Share of the clustered customers, 0-1.")
    members_now = serializers.IntegerField(help_text="Customers holding this cluster now.")
    top_categories = serializers.ListField(
        child=serializers.ListField(), help_text="[category, share of the cluster's spend], top 3."
    )
    traits = serializers.ListField(
        child=serializers.CharField(), help_text="Words the name was built from."
    )
    features = ClusterFeatureSerializer(many=True, help_text="Every feature's mean vs overall.")


class KScoreSerializer(serializers.Serializer):
    k = serializers.IntegerField(help_text="Number of clusters tried.")
    silhouette = serializers.FloatField(help_text="k-means silhouette (higher is better).")
    inertia = serializers.FloatField(help_text="k-means within-cluster sum of squares.")
    bic = serializers.FloatField(help_text="Gaussian mixture BIC (lower is better).")
    gmm_silhouette = serializers.FloatField(help_text="Silhouette of the mixture's labels.")


class ClustersOverviewSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(
        allow_null=True, help_text="Version number of the serving clustering; null before any fit."
    )
    model_version_id = serializers.IntegerField(
        allow_null=True, help_text="Id of that ModelVersion (see /api/v1/ml/models)."
    )
    applied = serializers.BooleanField(
        help_text="Whether customers hold this version's clusters (false right after a fit "
        "that a worker ran, until it is applied)."
    )
    algorithm = serializers.CharField(help_text="kmeans or gmm: the chosen model.")
    k = serializers.IntegerField(help_text="Number of clusters of the chosen model.")
    kmeans_k = serializers.IntegerField(help_text="k with the best k-means silhouette.")
    gmm_k = serializers.IntegerField(help_text="k with the lowest mixture BIC.")
    silhouette = serializers.FloatField(
        allow_null=True, help_text="Silhouette of the chosen model."
    )
    customers = serializers.IntegerField(help_text="Customers clustered (buyers).")
    used_text = serializers.BooleanField(help_text="Whether search-text features were used.")
    as_of = serializers.CharField(help_text="Time the features were measured at (ISO 8601).")
    selection = KScoreSerializer(many=True, help_text="Model selection scores per k.")
    clusters = ClusterProfileSerializer(many=True, help_text="Cluster profiles, largest first.")
