from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "apps.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        # The trainable kind of this app (house style: explicit registration, no discovery).
        from apps.insights import trainers

        trainers.register_kinds()
