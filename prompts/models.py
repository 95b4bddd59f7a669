"""Named, versioned, labelled prompt templates."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from langfuse_ui.ids import new_id


class PromptType(models.TextChoices):
    TEXT = "text"
    CHAT = "chat"


class PromptQuerySet(models.QuerySet):
    def for_project(self, project) -> PromptQuerySet:
        return self.filter(project_id=getattr(project, "pk", project))

    def named(self, name: str) -> PromptQuerySet:
        return self.filter(name=name)

    def labelled(self, label: str) -> PromptQuerySet:
        return self.filter(labels__contains=[label])


class Prompt(models.Model):
    """One version of a prompt. (project, name, version) is unique."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="prompts")
    name = models.CharField(max_length=800)
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=4, choices=PromptType.choices, default=PromptType.TEXT)
    prompt = models.JSONField()  # a string for text prompts, a list of messages for chat prompts
    config = models.JSONField(default=dict, blank=True)
    labels = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    commit_message = models.TextField(null=True, blank=True)
    created_by = models.CharField(max_length=200, default="API")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PromptQuerySet.as_manager()

    class Meta:
        db_table = "prompts"
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name", "version"], name="prompt_version_unique"),
        ]
        indexes = [
            models.Index(fields=["project", "name", "-version"], name="prompt_name_version"),
            GinIndex(fields=["project", "labels"], name="prompt_labels"),
            GinIndex(fields=["project", "tags"], name="prompt_tags"),
            models.Index(fields=["project", "-updated_at"], name="prompt_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PromptDependency(models.Model):
    """A composed prompt's reference to another prompt, by label or version."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="dependencies")
    child_name = models.CharField(max_length=800)
    child_label = models.CharField(max_length=100, null=True, blank=True)
    child_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "prompt_dependencies"
        indexes = [models.Index(fields=["project", "child_name"], name="prompt_dep_child")]


class ProtectedLabel(models.Model):
    """A label only owners and admins may move (production by default)."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="protected_labels")
    label = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "prompt_protected_labels"
        constraints = [models.UniqueConstraint(fields=["project", "label"], name="protected_label_unique")]
