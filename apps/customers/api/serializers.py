"""Customer API shapes: output serializers mirror the models, input ones validate writes."""

from rest_framework import serializers

from apps.customers.choices import AcquisitionChannel, ConsentPurpose, Gender
from apps.customers.models import Consent, Customer
from apps.customers.services.profiles import PROFILE_FIELDS

_PROFILE_HELP = {
    "external_id": "The shop's customer id; the API's path key.",
    "email": "Email address, stored trimmed and lower-cased.",
    "phone": "Phone number, E.164 when known.",
    "first_name": "Given name.",
    "last_name": "Family name.",
    "gender": "female, male, other, or empty when unknown.",
    "birth_date": "Date of birth (YYYY-MM-DD).",
    "city": "City of the customer.",
    "region": "Region, state or province.",
    "country": "Country, ISO 3166-1 alpha-2 (e.g. DE).",
    "language": "Preferred language, e.g. en, zh.",
    "signup_at": "When the customer signed up (ISO 8601); defaults to the time of creation.",
    "acquisition_channel": "How the customer first came: organic, paid_search, social ...",
    "attributes": "Free-form traits as a JSON object.",
}

_AFTER_NAMES = PROFILE_FIELDS.index("last_name") + 1


class CustomerSerializer(serializers.ModelSerializer):
    """A customer profile."""

    full_name = serializers.CharField(read_only=True, help_text="First and last name.")

    class Meta:
        model = Customer
        # The profile fields, with the full name next to the names it is made of.
        fields = [
            "external_id",
            *PROFILE_FIELDS[:_AFTER_NAMES],
            "full_name",
            *PROFILE_FIELDS[_AFTER_NAMES:],
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {name: {"help_text": text} for name, text in _PROFILE_HELP.items()}


class ScoreReasonSerializer(serializers.Serializer):
    """One of the top reasons for a score."""

    feature = serializers.CharField(help_text="Feature name, e.g. days_since_last_order.")
    label = serializers.CharField(help_text="Readable name, e.g. Days since the last order.")
    contribution = serializers.FloatField(
        help_text="TreeSHAP contribution in log-odds; positive raises the score."
    )


def _model_version(what: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        allow_null=True,
        help_text=f"Version number of the {what} model that produced these values (the ML "
        "platform's ModelVersion.version); null before any.",
    )


class CustomerTraitsSerializer(serializers.Serializer):
    """Predictive and derived traits of a customer (segments app: RFM, CLV, churn ...)."""

    rfm_recency = serializers.IntegerField(allow_null=True, help_text="RFM recency score 1-5.")
    rfm_frequency = serializers.IntegerField(allow_null=True, help_text="RFM frequency 1-5.")
    rfm_monetary = serializers.IntegerField(allow_null=True, help_text="RFM monetary 1-5.")
    rfm_cell = serializers.CharField(help_text="Named RFM cell, e.g. champions, at_risk.")
    lifecycle_stage = serializers.CharField(help_text="prospect, new, active ... lapsed.")
    cluster = serializers.IntegerField(allow_null=True, help_text="ML segment number.")
    cluster_name = serializers.CharField(help_text="Generated name of the ML segment.")
    cluster_model_version = _model_version("clustering (segments.clusters)")
    clv_historical = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Revenue so far."
    )
    clv_discounted = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Revenue so far, discounted."
    )
    clv_12m = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="Predicted 12-month CLV (BG/NBD + Gamma-Gamma).",
    )
    p_alive = serializers.FloatField(
        allow_null=True, help_text="P(still a customer), 0-1 (BG/NBD)."
    )
    expected_purchases_90d = serializers.FloatField(
        allow_null=True, help_text="Expected purchases in the next 90 days (BG/NBD)."
    )
    clv_model_version = _model_version(
        "CLV (segments.clv: clv_historical, clv_discounted, clv_12m, p_alive, "
        "expected_purchases_90d)"
    )
    churn_risk = serializers.FloatField(allow_null=True, help_text="P(churn), 0-1.")
    churn_model_version = _model_version("churn (segments.churn)")
    churn_reasons = ScoreReasonSerializer(
        many=True, help_text="Top reasons for churn_risk, largest |contribution| first."
    )
    purchase_propensity = serializers.FloatField(
        allow_null=True, help_text="P(purchase in the model's horizon), 0-1."
    )
    propensity_model_version = _model_version("purchase propensity (segments.propensity)")
    propensity_reasons = ScoreReasonSerializer(
        many=True, help_text="Top reasons for purchase_propensity, largest |contribution| first."
    )
    explanations = serializers.DictField(
        help_text="Top feature contributions per score: {score: [[feature, log-odds], ...]}."
    )
    updated_at = serializers.DateTimeField(allow_null=True, help_text="Last change of a score.")


class CustomerDetailSerializer(CustomerSerializer):
    """A customer profile with its other ids and its predictive traits."""

    aliases = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="alias",
        help_text="Other ids of this customer (anonymous/device ids, merged profiles' ids).",
    )

    traits = CustomerTraitsSerializer(
        read_only=True,
        allow_null=True,
        help_text="RFM, lifecycle, cluster, CLV, churn and propensity; null before any is computed.",
    )

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "aliases", "traits"]
        read_only_fields = fields


class CustomerUpdateSerializer(serializers.Serializer):
    """Profile fields to change; fields left out keep their value."""

    email = serializers.EmailField(
        required=False, allow_blank=True, max_length=254, help_text=_PROFILE_HELP["email"]
    )
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text=_PROFILE_HELP["phone"]
    )
    first_name = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_PROFILE_HELP["first_name"]
    )
    last_name = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_PROFILE_HELP["last_name"]
    )
    gender = serializers.ChoiceField(
        choices=Gender.choices, required=False, allow_blank=True, help_text=_PROFILE_HELP["gender"]
    )
    birth_date = serializers.DateField(
        required=False, allow_null=True, help_text=_PROFILE_HELP["birth_date"]
    )
    city = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_PROFILE_HELP["city"]
    )
    region = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_PROFILE_HELP["region"]
    )
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        allow_blank=True,
        help_text=_PROFILE_HELP["country"],
        error_messages={"invalid": "Use a two-letter ISO 3166-1 code, e.g. DE."},
    )
    language = serializers.CharField(
        required=False, allow_blank=True, max_length=8, help_text=_PROFILE_HELP["language"]
    )
    signup_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_PROFILE_HELP["signup_at"]
    )
    acquisition_channel = serializers.ChoiceField(
        choices=AcquisitionChannel.choices,
        required=False,
        allow_blank=True,
        help_text=_PROFILE_HELP["acquisition_channel"],
    )
    attributes = serializers.DictField(required=False, help_text=_PROFILE_HELP["attributes"])


class CustomerCreateSerializer(CustomerUpdateSerializer):
    """A new customer: the shop's id and any profile fields."""

    external_id = serializers.CharField(max_length=128, help_text=_PROFILE_HELP["external_id"])


class ConsentSerializer(serializers.ModelSerializer):
    """One consent decision."""

    class Meta:
        model = Consent
        fields = ["purpose", "granted", "recorded_at", "source"]
        read_only_fields = fields
        extra_kwargs = {
            "purpose": {"help_text": "What the decision is about: email_marketing, profiling ..."},
            "granted": {"help_text": "True grants, false withdraws."},
            "recorded_at": {"help_text": "When the customer decided."},
            "source": {"help_text": "Where it was recorded: signup_form, api, import ..."},
        }


class ConsentStateSerializer(serializers.Serializer):
    """The consent in force for one purpose: its latest decision, or no consent without one."""

    purpose = serializers.ChoiceField(
        choices=ConsentPurpose.choices, help_text="What the consent is about."
    )
    label = serializers.CharField(help_text="Human-readable name of the purpose.")
    granted = serializers.BooleanField(
        help_text="Whether consent is in force (false when never recorded)."
    )
    recorded_at = serializers.DateTimeField(
        allow_null=True, help_text="When the decision in force was made; null when none."
    )
    source = serializers.CharField(help_text="Where the decision in force was recorded.")


class ConsentOverviewSerializer(serializers.Serializer):
    """A customer's consent: the state per purpose and every decision, newest first."""

    customer = serializers.CharField(help_text="The customer's external id.")
    in_force = ConsentStateSerializer(many=True, help_text="The consent in force per purpose.")
    history = ConsentSerializer(many=True, help_text="Every decision, newest first.")


class ConsentCreateSerializer(serializers.Serializer):
    """A consent decision to record."""

    purpose = serializers.ChoiceField(
        choices=ConsentPurpose.choices, help_text="What the decision is about."
    )
    granted = serializers.BooleanField(help_text="True grants, false withdraws.")
    recorded_at = serializers.DateTimeField(
        required=False, help_text="When the customer decided (ISO 8601); defaults to now."
    )
    source = serializers.CharField(
        required=False,
        default="api",
        max_length=64,
        help_text="Where it was recorded, e.g. signup_form; defaults to api.",
    )
