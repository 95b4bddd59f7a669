"""Tables of the project package itself: shared counters that must agree across server processes."""

from __future__ import annotations

from django.db import models


class AuthFailureWindow(models.Model):
    """Failed authentications of one bucket (a client address or an API public key) in one window.

    One row per bucket, reset when a new window starts; written only when an authentication
    fails (langfuse_ui/throttle.py), so successful requests never touch it.
    """

    bucket = models.CharField(max_length=80, primary_key=True)
    window = models.BigIntegerField(db_index=True)
    failures = models.IntegerField()

    class Meta:
        db_table = "langfuse_auth_failure_window"
