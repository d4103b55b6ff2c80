"""The daemon: schedules, health, logs (``carewatch run``)."""
