from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "apps.segments"
    label = "segments"
    verbose_name = "Segments"
