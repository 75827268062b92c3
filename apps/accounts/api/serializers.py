from rest_framework import serializers


class PrincipalSerializer(serializers.Serializer):
    """Who is calling: a partner key or a signed-in user, and the scopes held."""

    kind = serializers.ChoiceField(
        choices=["api_key", "user"], help_text="`api_key` for a partner key, `user` for a session."
    )
    name = serializers.CharField(help_text="Name of the key, or username of the user.")
    scopes = serializers.ListField(
        child=serializers.CharField(), help_text="Scopes held, e.g. `customers:read`."
    )
    key_prefix = serializers.CharField(
        help_text="Public prefix of the key (empty for users); quote it to revoke the key."
    )
    rate_limit_per_minute = serializers.IntegerField(
        allow_null=True,
        help_text="Requests a minute allowed for the key; null means the site default.",
    )
    email = serializers.CharField(help_text="Email of the user (empty for keys).")
    role = serializers.CharField(
        help_text="Role of the user: admin, marketer or analyst (empty for keys)."
    )
