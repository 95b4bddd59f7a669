"""Forms of the trace page: which trace or observation, and what a person entered."""

from __future__ import annotations

import json

from django import forms

from traces.annotations import MAX_COMMENT_LENGTH

FIELDS = ("input", "output", "metadata")
VIEWS = ("tree", "timeline")


class TargetForm(forms.Form):
    """The trace, the optional observation, and the page view to come back to."""

    trace_id = forms.CharField(max_length=800)
    observation_id = forms.CharField(max_length=800, required=False)
    view = forms.ChoiceField(choices=[(v, v) for v in VIEWS], required=False)

    def clean_observation_id(self) -> str | None:
        return self.cleaned_data["observation_id"] or None

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or "tree"


class ScoreForm(TargetForm):
    config_id = forms.CharField(max_length=64)
    value = forms.CharField(max_length=800, required=False)
    comment = forms.CharField(max_length=MAX_COMMENT_LENGTH, required=False)


class CommentForm(TargetForm):
    content = forms.CharField(max_length=MAX_COMMENT_LENGTH, required=False, strip=True)


class PageForm(forms.Form):
    """GET parameters of the trace page."""

    observation = forms.CharField(max_length=800, required=False)
    view = forms.ChoiceField(choices=[(v, v) for v in VIEWS], required=False)

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or "tree"


class ValueForm(forms.Form):
    """GET parameters of "show all": which field of which row, and the path inside it."""

    trace = forms.CharField(max_length=800)
    observation = forms.CharField(max_length=800, required=False)
    field = forms.ChoiceField(choices=[(f, f) for f in FIELDS])
    path = forms.CharField(max_length=4000, required=False)

    def clean_path(self) -> list:
        raw = self.cleaned_data["path"] or "[]"
        try:
            path = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("path must be a JSON list of keys and indexes") from None
        if not isinstance(path, list) or not all(isinstance(p, str | int) for p in path):
            raise forms.ValidationError("path must be a JSON list of keys and indexes")
        return path
