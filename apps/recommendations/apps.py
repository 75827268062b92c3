from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "apps.recommendations"
    label = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        # The trainable kind of this app (house style: explicit registration, no discovery).
        from apps.recommendations import trainers

        trainers.register_kinds()
