"""Hypothesis settings for the trigger suites: no deadline (shared CI cores are noisy)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "triggers",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("triggers")
