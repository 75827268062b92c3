"""Every periodic schedule of SmartMkt lives here (house rule 7)."""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # Campaign senders: restart any campaign with due messages that no sender holds (a
    # crashed worker, quiet hours over, a scheduled time reached).
    "campaigns-resume": {
        "task": "campaigns.resume_campaigns_task",
        "schedule": crontab(minute="*"),
        "options": {"queue": "email"},
    },
    # Journeys: new triggers enroll customers, due steps run (idempotent, rows claimed).
    "campaigns-journeys": {
        "task": "campaigns.run_journeys_task",
        "schedule": crontab(minute="*"),
        "options": {"queue": "default"},
    },
    # Coupon codes used by orders (imported or sent through the API) marked redeemed.
    "campaigns-redeem-coupons": {
        "task": "campaigns.redeem_coupons_task",
        "schedule": crontab(minute="*/5"),
        "options": {"queue": "default"},
    },
    # Text insights (issue 7): new and changed reviews and posts are analysed within minutes
    # (the job also refreshes customer traits and alerts); topics are refitted weekly.
    "insights-analyze": {
        "task": "insights.analyze_new_texts_task",
        "schedule": crontab(minute="*/5"),
        "options": {"queue": "default"},
    },
    "insights-topics": {
        "task": "insights.fit_topics_task",
        "schedule": crontab(minute=40, hour=3, day_of_week=1),
        "options": {"queue": "default"},
    },
    # Forecasting (issue 8): every series is re-forecast nightly, in parallel chunks on the
    # ml_cpu workers; stock alerts follow the product forecasts.
    "forecasts-refresh": {
        "task": "forecasts.refresh_forecasts_task",
        "schedule": crontab(minute=15, hour=2),
        "options": {"queue": "default"},
    },
    "ml-mark-stale-runs": {
        "task": "ml.mark_stale_runs_task",
        "schedule": crontab(minute="*/5"),
        "options": {"queue": "default"},
    },
    # Monthly event partitions exist from a month back to three ahead; any row that landed
    # in the default partition (a month without a partition) is moved into its own month.
    "events-ensure-partitions": {
        "task": "events.ensure_event_partitions_task",
        "schedule": crontab(minute=17, hour="*/6"),
        "options": {"queue": "default"},
    },
    # Customer intelligence (issue 4). Relative windows slide with time: a full segment refresh
    # hourly; RFM daily, CLV daily, clusters weekly. A new champion's scores are stored by its
    # kind's on_activate hook at once; the hourly catch-ups repair a hook that was lost (broker
    # down at the moment of activation).
    "segments-refresh": {
        "task": "segments.refresh_segments_task",
        "schedule": crontab(minute=7),
        "options": {"queue": "default"},
    },
    "segments-rfm": {
        "task": "segments.compute_rfm_task",
        "schedule": crontab(minute=30, hour=2),
        "options": {"queue": "default"},
    },
    "segments-clv": {
        "task": "segments.refit_clv_task",
        "schedule": crontab(minute=40, hour=3),
        "options": {"queue": "default"},
    },
    "segments-clusters": {
        "task": "segments.fit_clusters_task",
        "schedule": crontab(minute=30, hour=3, day_of_week=0),
        "options": {"queue": "default"},
    },
    "segments-apply-clusters": {
        "task": "segments.apply_cluster_scores_task",
        "schedule": crontab(minute=12),
        "options": {"queue": "default"},
    },
    "segments-store-clv": {
        "task": "segments.store_clv_scores_task",
        "schedule": crontab(minute=22),
        "options": {"queue": "default"},
    },
    "segments-predictions-new-champion": {
        "task": "segments.refresh_prediction_scores_task",
        "schedule": crontab(minute=32),
        "kwargs": {"only_stale": True},
        "options": {"queue": "default"},
    },
    "segments-predictions-daily": {
        "task": "segments.refresh_prediction_scores_task",
        "schedule": crontab(minute=50, hour=4),
        "kwargs": {"only_stale": False},
        "options": {"queue": "default"},
    },
    # Recommendations (issue 5): a daily retrain, an hourly check that retrains early when
    # enough new interactions arrived, the precompute of a new champion's candidates (runs that
    # finished on a worker, "Make champion") and the daily refresh when they expire, pruning.
    "recommendations-retrain": {
        "task": "recommendations.retrain_recommender_task",
        "schedule": crontab(minute=20, hour=2),
        "options": {"queue": "default"},
    },
    "recommendations-retrain-if-needed": {
        "task": "recommendations.retrain_recommender_if_needed_task",
        "schedule": crontab(minute=25),
        "options": {"queue": "default"},
    },
    "recommendations-precompute": {
        "task": "recommendations.precompute_candidates_task",
        "schedule": crontab(minute="*/10"),
        "options": {"queue": "ml_cpu"},
    },
    "recommendations-flush-served": {
        "task": "recommendations.flush_served_task",
        "schedule": crontab(),  # every minute
        "options": {"queue": "default"},
    },
    "recommendations-prune-served": {
        "task": "recommendations.prune_served_task",
        "schedule": crontab(minute=55, hour=3),
        "options": {"queue": "default"},
    },
}
