from django.urls import path

from apps.events.web import quarantine, tracking, views

app_name = "events"

urlpatterns = [
    path("", views.index, name="index"),
    path("quarantine/", quarantine.quarantine_index, name="quarantine"),
    path("quarantine/bulk/", quarantine.quarantine_bulk, name="quarantine-bulk"),
    path("quarantine/<int:entry_id>/", quarantine.quarantine_detail, name="quarantine-detail"),
    path(
        "quarantine/<int:entry_id>/replay/",
        quarantine.quarantine_replay,
        name="quarantine-replay",
    ),
    path(
        "quarantine/<int:entry_id>/discard/",
        quarantine.quarantine_discard,
        name="quarantine-discard",
    ),
    path("tracking/", tracking.tracking_index, name="tracking"),
    path("tracking/sandbox/", tracking.tracking_sandbox, name="tracking-sandbox"),
    path("tracking/recent/", tracking.tracking_recent, name="tracking-recent"),
]
