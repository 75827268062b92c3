from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "apps.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        # Trainable kinds of this app (house style: explicit registration, no discovery).
        from apps.segments import ml_clv, ml_propensity, ml_rfm

        ml_clv.register_kinds()
        ml_propensity.register_kinds()
        ml_rfm.register_kinds()
