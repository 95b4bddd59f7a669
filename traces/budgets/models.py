"""A monthly spending budget in USD for a project, or for one team of it (the value of the
trace metadata key `team`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Project

TEAM_KEY = "team"


class Budget(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budgets")
    team = models.CharField(max_length=200, blank=True, default="", help_text="Empty: the whole project")
    monthly_usd = models.DecimalField(max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team"]
        constraints = [models.UniqueConstraint(fields=["project", "team"], name="one_budget_per_team")]

    def __str__(self) -> str:
        return f"{self.team or 'project'}: ${self.monthly_usd}/month"
