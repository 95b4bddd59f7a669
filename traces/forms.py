"""Forms of the traces UI: the GET filters of the traces list, saved views, people lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from traces.models import SavedView

TIME_RANGES = [
    ("", "All time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
]
LEVELS = [
    ("", "Any level"),
    ("ERROR", "Errors"),
    ("WARNING", "Warnings (no errors)"),
    ("DEFAULT", "No errors or warnings"),
]
SORTS = [("time", "Time"), ("latency", "Latency"), ("cost", "Cost"), ("tokens", "Tokens")]
ORDERS = [("desc", "Descending"), ("asc", "Ascending")]
SCORE_OPERATORS = [(">=", "≥"), ("<=", "≤"), ("=", "="), (">", ">"), ("<", "<")]
TAG_MODES = [("any", "any of"), ("all", "all of")]

COLUMNS = [
    ("time", "Time"),
    ("name", "Name"),
    ("user", "User"),
    ("session", "Session"),
    ("tags", "Tags"),
    ("environment", "Environment"),
    ("release", "Release / version"),
    ("latency", "Latency"),
    ("input_tokens", "Input tokens"),
    ("output_tokens", "Output tokens"),
    ("total_tokens", "Total tokens"),
    ("cost", "Total cost"),
    ("level", "Level"),
    ("scores", "Scores"),
    ("observations", "Observations"),
]
DEFAULT_COLUMNS = [
    "time",
    "name",
    "user",
    "session",
    "tags",
    "latency",
    "total_tokens",
    "cost",
    "level",
    "scores",
    "observations",
]
# What a shared URL carries, in this order; cursors and live mode are navigation, not filters.
FILTER_FIELDS = [
    "range",
    "since",
    "until",
    "q",
    "name",
    "user",
    "session",
    "tags",
    "tags_mode",
    "environment",
    "release",
    "version",
    "level",
    "model",
    "meta_key",
    "meta_value",
    "cost_min",
    "cost_max",
    "latency_min",
    "latency_max",
    "score_name",
    "score_op",
    "score_value",
]
VIEW_FIELDS = [*FILTER_FIELDS, "sort", "order", "cols"]
DEFAULTS = {"tags_mode": "any", "score_op": ">=", "sort": "time", "order": "desc", "cols": DEFAULT_COLUMNS}

text = {"required": False, "max_length": 800}
datetime_input = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TraceListForm(forms.Form):
    """Every state of the traces list, read from the query string."""

    range = forms.ChoiceField(choices=TIME_RANGES, required=False, label="Time range")
    since = forms.DateTimeField(required=False, widget=datetime_input, label="From")
    until = forms.DateTimeField(required=False, widget=datetime_input, label="To")
    q = forms.CharField(
        label="Search input and output",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search input and output"}),
        **text,
    )
    name = forms.CharField(label="Name", **text)
    user = forms.CharField(label="User", **text)
    session = forms.CharField(label="Session", **text)
    tags = forms.CharField(
        label="Tags", widget=forms.TextInput(attrs={"placeholder": "tag-a, tag-b"}), **text
    )
    tags_mode = forms.ChoiceField(choices=TAG_MODES, required=False, label="Match")
    environment = forms.CharField(
        label="Environment", widget=forms.TextInput(attrs={"placeholder": "production, staging"}), **text
    )
    release = forms.CharField(label="Release", **text)
    version = forms.CharField(label="Version", **text)
    level = forms.ChoiceField(choices=LEVELS, required=False, label="Level")
    model = forms.CharField(label="Model", **text)
    meta_key = forms.CharField(
        label="Metadata key", widget=forms.TextInput(attrs={"placeholder": "customer.region"}), **text
    )
    meta_value = forms.CharField(label="Metadata value", **text)
    cost_min = forms.DecimalField(required=False, min_value=0, label="Cost from ($)")
    cost_max = forms.DecimalField(required=False, min_value=0, label="Cost to ($)")
    latency_min = forms.FloatField(required=False, min_value=0, label="Latency from (s)")
    latency_max = forms.FloatField(required=False, min_value=0, label="Latency to (s)")
    score_name = forms.CharField(label="Score", **text)
    score_op = forms.ChoiceField(choices=SCORE_OPERATORS, required=False, label="Operator")
    score_value = forms.CharField(label="Score value", **text)
    sort = forms.ChoiceField(choices=SORTS, required=False, label="Sort by")
    order = forms.ChoiceField(choices=ORDERS, required=False, label="Order")
    cols = forms.MultipleChoiceField(
        choices=COLUMNS, required=False, widget=forms.CheckboxSelectMultiple, label="Columns"
    )
    live = forms.BooleanField(required=False, label="Live")
    after = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    newer = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, **kwargs) -> None:
        if data is not None and not data.getlist("cols"):
            data = data.copy()
            data.setlist("cols", DEFAULT_COLUMNS)  # so the checkboxes show what the table shows
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict:
        data = super().clean()
        for name, default in DEFAULTS.items():
            if not data.get(name):
                data[name] = default
        if data.get("meta_value") and not data.get("meta_key"):
            self.add_error("meta_key", "Give the metadata key to compare the value with")
        if data.get("score_value") and not data.get("score_name"):
            self.add_error("score_name", "Give the score name to compare the value with")
        return data

    def state(self) -> dict:
        """The valid part of the request (an invalid field falls back to no filter)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return {**DEFAULTS, **self.cleaned_data}


def query_string(state: dict, fields: Iterable[str] = VIEW_FIELDS, **changes) -> str:
    """The canonical, shareable query string of a list state: defaults and blanks left out."""
    state = {**state, **changes}
    pairs: list[tuple[str, str]] = []
    for name in fields:
        value = state.get(name)
        if value in (None, "", []) or value == DEFAULTS.get(name):
            continue
        if name == "cols":
            pairs.extend(("cols", column) for column in value)
        elif isinstance(value, datetime):
            pairs.append((name, timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S")))
        elif isinstance(value, Decimal | float):
            pairs.append((name, format(value, "f") if isinstance(value, Decimal) else repr(value)))
        else:
            pairs.append((name, str(value)))
    for name in ("live", "after", "before"):
        if changes.get(name):
            pairs.append((name, "1" if changes[name] is True else str(changes[name])))
    return urlencode(pairs)


def describe(state: dict) -> list[tuple[str, str]]:
    """The active filters of a state as (label, value) pairs, for people to read."""
    fields = TraceListForm.base_fields
    described = []
    for name in FILTER_FIELDS:
        value = state.get(name)
        if value in (None, "", []) or value == DEFAULTS.get(name):
            continue
        field = fields[name]
        if isinstance(field, forms.ChoiceField):
            value = dict(field.choices).get(value, value)
        elif isinstance(value, datetime):
            value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        described.append((str(field.label), str(value)))
    return described


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "query_string"]
        widgets = {"query_string": forms.HiddenInput}


class PeopleListForm(forms.Form):
    """Search and cursor of the sessions and users lists."""

    q = forms.CharField(
        required=False,
        max_length=800,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search by id"}),
    )
    after = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def state(self) -> dict:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return {"q": "", "after": "", "before": "", **self.cleaned_data}
