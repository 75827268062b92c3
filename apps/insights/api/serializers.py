"""Shapes of the insights API."""

from __future__ import annotations

from rest_framework import serializers

from apps.insights.choices import AlertStatus, Emotion, JobKind, Sentiment, TextSource, TopicMethod
from apps.insights.models import AnalysisJob, InsightAlert, TextAnalysis, TextCategory, Topic
from apps.insights.selectors import analysis_text

MAX_TEXTS = 100
MAX_CHARACTERS = 20_000


class AnalyzeRequestSerializer(serializers.Serializer):
    texts = serializers.ListField(
        child=serializers.CharField(
            allow_blank=True, trim_whitespace=False, max_length=MAX_CHARACTERS
        ),
        allow_empty=False,
        max_length=MAX_TEXTS,
        help_text=f"1-{MAX_TEXTS} texts (English, Chinese or mixed), each up to {MAX_CHARACTERS:,} characters.",
    )


class SentimentSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=Sentiment.choices)
    score = serializers.FloatField(help_text="-1 (negative) to 1 (positive).")
    probabilities = serializers.DictField(child=serializers.FloatField())


class EmotionSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=Emotion.choices)
    score = serializers.FloatField()
    scores = serializers.DictField(child=serializers.FloatField())


class AspectSerializer(serializers.Serializer):
    aspect = serializers.CharField()
    label = serializers.ChoiceField(choices=Sentiment.choices)
    score = serializers.FloatField()
    clause = serializers.CharField()


class CategoryMatchSerializer(serializers.Serializer):
    name = serializers.CharField()
    similarity = serializers.FloatField()


class KeywordSerializer(serializers.Serializer):
    term = serializers.CharField()
    weight = serializers.FloatField()


class AnalyzeResultSerializer(serializers.Serializer):
    language = serializers.CharField(help_text="en, zh ... or und (undetermined).")
    language_confidence = serializers.FloatField()
    mixed_language = serializers.BooleanField()
    sentiment = SentimentSerializer()
    emotion = EmotionSerializer()
    aspects = AspectSerializer(many=True)
    categories = CategoryMatchSerializer(many=True)
    keywords = KeywordSerializer(many=True)
    is_complaint = serializers.BooleanField()
    model_version = serializers.CharField()


class AnalyzeResponseSerializer(serializers.Serializer):
    results = AnalyzeResultSerializer(many=True, help_text="One per text, in input order.")
    model_version = serializers.CharField()


class TextAnalysisSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()
    product_sku = serializers.SerializerMethodField()
    customer_id = serializers.SerializerMethodField()
    source_id = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()

    class Meta:
        model = TextAnalysis
        fields = [
            "id",
            "source",
            "source_id",
            "channel",
            "written_at",
            "text",
            "product_sku",
            "customer_id",
            "language",
            "mixed_language",
            "sentiment",
            "sentiment_score",
            "emotion",
            "emotion_score",
            "aspects",
            "keywords",
            "categories",
            "is_complaint",
            "model_label",
            "analysed_at",
        ]

    def get_text(self, analysis: TextAnalysis) -> str:
        return analysis_text(analysis)

    def get_product_sku(self, analysis: TextAnalysis) -> str | None:
        return analysis.product.sku if analysis.product_id else None

    def get_customer_id(self, analysis: TextAnalysis) -> str | None:
        return analysis.customer.external_id if analysis.customer_id else None

    def get_source_id(self, analysis: TextAnalysis) -> int | None:
        return analysis.review_id or analysis.social_post_id

    def get_categories(self, analysis: TextAnalysis) -> list[str]:
        return [match.category.name for match in analysis.category_matches.all()]


class TextListQuerySerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=TextSource.choices, required=False)
    channel = serializers.CharField(required=False, help_text="Review source or platform.")
    language = serializers.CharField(required=False)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False)
    emotion = serializers.ChoiceField(choices=Emotion.choices, required=False)
    product = serializers.CharField(required=False, help_text="Product SKU.")
    customer = serializers.CharField(required=False, help_text="Customer external id.")
    category = serializers.CharField(required=False, help_text="Custom category name.")
    topic = serializers.IntegerField(required=False, help_text="Topic id.")
    aspect = serializers.CharField(required=False, help_text="price, quality, size_fit ...")
    since = serializers.DateTimeField(required=False)
    search = serializers.CharField(required=False)


class TrendQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=3650, default=90)
    channel = serializers.CharField(required=False, default="")
    product = serializers.CharField(required=False, help_text="Product SKU.")
    interval = serializers.ChoiceField(choices=["day", "week"], default="day")


class TrendPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    total = serializers.IntegerField()
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    negative_share = serializers.FloatField(allow_null=True)


class TopicQuerySerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=["en", "zh"], default="en")
    method = serializers.ChoiceField(choices=TopicMethod.choices, default=TopicMethod.LDA)


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = [
            "id",
            "index",
            "label",
            "words",
            "size",
            "share",
            "average_sentiment",
            "negative_share",
        ]


class TopicsResponseSerializer(serializers.Serializer):
    language = serializers.CharField()
    method = serializers.CharField()
    fitted_at = serializers.DateTimeField(allow_null=True)
    documents = serializers.IntegerField()
    coherence = serializers.DictField(child=serializers.FloatField())
    topics = TopicSerializer(many=True)


class KeywordQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=90, default=7)


class TrendingKeywordSerializer(serializers.Serializer):
    term = serializers.CharField()
    current_count = serializers.IntegerField()
    previous_count = serializers.IntegerField()
    change = serializers.FloatField()
    z = serializers.FloatField()
    is_new = serializers.BooleanField()


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = InsightAlert
        fields = [
            "id",
            "scope",
            "day",
            "total",
            "negative",
            "share",
            "expected",
            "upper",
            "z_score",
            "status",
            "webhook_status",
            "acknowledged_at",
        ]


class AlertQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False, default="")


class TextCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = TextCategory
        fields = ["id", "name", "description", "examples", "threshold", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"threshold": {"required": False}}


class TextCategoryWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    description = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    examples = serializers.ListField(
        child=serializers.CharField(max_length=500), help_text="2-50 example texts, any language."
    )
    threshold = serializers.FloatField(
        required=False, help_text="Similarity a text needs (0.05-0.9, default 0.2)."
    )
    is_active = serializers.BooleanField(required=False, default=True)


class JobRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=JobKind.choices, default=JobKind.ANALYZE)


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalysisJob
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "texts",
            "counts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class ProductInsightsSerializer(serializers.Serializer):
    sku = serializers.CharField()
    texts = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    negative_share = serializers.FloatField(allow_null=True)
    trend = TrendPointSerializer(many=True)
    aspects = serializers.DictField()
    topics = serializers.ListField(child=serializers.DictField())
    keywords = KeywordSerializer(many=True)
    emotions = serializers.DictField(child=serializers.IntegerField())
