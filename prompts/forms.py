"""Forms of the prompt pages: a new version (text or chat), label moves, the diff selection."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from prompts.models import PromptType

CHAT_ROLES = ["system", "user", "assistant", "placeholder"]


class VersionForm(forms.Form):
    """A new version. Chat messages arrive as parallel `role` / `content` lists (blank rows are skipped)."""

    name = forms.CharField(required=False, max_length=800)
    type = forms.ChoiceField(choices=PromptType.choices, initial=PromptType.TEXT)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8}), strip=False)
    config = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), initial="{}")
    labels = forms.CharField(required=False, help_text="Comma-separated, e.g. production, staging")
    commit_message = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, name_required: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name_required = name_required
        self.messages: list[dict[str, str]] = []
        if self.is_bound:
            roles, contents = self.data.getlist("role"), self.data.getlist("content")
            self.messages = [
                {"role": role, "content": content} for role, content in zip(roles, contents, strict=False)
            ]

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name", "").strip()
        if self.name_required and not name:
            raise forms.ValidationError("Give the prompt a name; use / to put it in a folder")
        return name

    def clean_config(self) -> Any:
        raw = self.cleaned_data.get("config", "").strip() or "{}"
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Config is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None

    def clean_labels(self) -> list[str]:
        raw = self.cleaned_data.get("labels", "")
        return [label.strip() for label in raw.split(",") if label.strip()]

    def prompt_content(self) -> Any:
        """The text, or the chat messages without blank rows (placeholder rows name the placeholder)."""
        if self.cleaned_data.get("type") != PromptType.CHAT:
            return self.cleaned_data.get("text", "")
        content: list[dict[str, str]] = []
        for message in self.messages:
            role, text = message["role"].strip(), message["content"]
            if not text.strip():
                continue
            if role == "placeholder":
                content.append({"type": "placeholder", "name": text.strip()})
            else:
                content.append({"role": role or "user", "content": text})
        return content

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("type") == PromptType.TEXT and not cleaned.get("text", "").strip():
            self.add_error("text", "Write the prompt text")
        if cleaned.get("type") == PromptType.CHAT and not self.prompt_content():
            self.add_error(None, "Add at least one chat message")
        return cleaned


class LabelForm(forms.Form):
    version = forms.IntegerField(min_value=1)
    label = forms.CharField(max_length=36)
    action = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")], initial="add")


class DiffForm(forms.Form):
    base = forms.IntegerField(min_value=1, label="From version")
    compare = forms.IntegerField(min_value=1, label="To version")


class CompareForm(forms.Form):
    a = forms.IntegerField(min_value=1, label="Version A")
    b = forms.IntegerField(min_value=1, label="Version B")
