"""The dashboard's GET filters: a time window (preset or custom), its buckets, and the traces-list
filter state every dashboard query starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django import forms

from traces.forms import FILTER_FIELDS, LEVELS, query_string

PRESETS = {
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
RANGE_CHOICES = [
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("custom", "Custom (from/to)"),
]
DEFAULT_RANGE = "7d"
DEFAULT_TEAM_KEY = "team"
# The traces-list filters the dashboard passes through unchanged (same names as the list's form).
TRACE_FILTERS = [
    "name",
    "user",
    "session",
    "tags",
    "environment",
    "release",
    "level",
    "model",
    "meta_key",
    "meta_value",
]
BUCKET_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}

text = {"required": False, "max_length": 800}
datetime_input = forms.DateTimeInput(
    attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
)


class DashboardForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, label="Time range")
    since = forms.DateTimeField(required=False, widget=datetime_input, label="From")
    until = forms.DateTimeField(required=False, widget=datetime_input, label="To")
    environment = forms.CharField(label="Environment", help_text="Comma-separated", **text)
    name = forms.CharField(label="Trace name", **text)
    user = forms.CharField(label="User", **text)
    session = forms.CharField(label="Session", **text)
    tags = forms.CharField(label="Tags", help_text="Comma-separated, any of", **text)
    release = forms.CharField(label="Release", **text)
    level = forms.ChoiceField(choices=LEVELS, required=False, label="Level")
    model = forms.CharField(label="Model", **text)
    meta_key = forms.CharField(label="Metadata key", **text)
    meta_value = forms.CharField(label="Metadata value", **text)
    team_key = forms.CharField(label="Team metadata key", help_text="Nested keys as a.b", **text)

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", "The end of the range must come after its start")
        return data

    def state(self) -> dict:
        """The valid part of the request; an invalid field falls back to no filter."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        state = dict.fromkeys(self.base_fields, "")
        state.update({key: value for key, value in self.cleaned_data.items() if value not in (None, "")})
        state["team_key"] = (state.get("team_key") or DEFAULT_TEAM_KEY).strip() or DEFAULT_TEAM_KEY
        if not state.get("range"):
            state["range"] = "custom" if state.get("since") or state.get("until") else DEFAULT_RANGE
        return state


def truncate(moment: datetime, bucket: str) -> datetime:
    """The start of the bucket holding `moment`, as PostgreSQL's date_trunc(bucket, moment, 'UTC')."""
    moment = moment.astimezone(UTC)
    if bucket == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day


@dataclass(frozen=True)
class Period:
    """A half-open window [start, end) split into hour, day or week buckets."""

    start: datetime
    end: datetime
    bucket: str

    @classmethod
    def spanning(cls, start: datetime, end: datetime) -> Period:
        length = end - start
        bucket = "hour" if length <= timedelta(days=2) else "day" if length <= timedelta(days=92) else "week"
        return cls(start, end, bucket)

    @property
    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start, self.bucket)

    def buckets(self) -> list[datetime]:
        step = BUCKET_STEPS[self.bucket]
        current, found = truncate(self.start, self.bucket), []
        while current < self.end:
            found.append(current)
            current += step
        return found

    def bucket_bounds(self, bucket_start: datetime) -> tuple[datetime, datetime]:
        """The part of a bucket inside the window (the first and last buckets may be partial)."""
        return max(bucket_start, self.start), min(bucket_start + BUCKET_STEPS[self.bucket], self.end)


def ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def period_of(state: dict, now: datetime) -> Period:
    """A preset counts back from now (rounded up to the minute, so links carry it exactly);
    a custom range takes from/to, each defaulting to a week from the other or to now."""
    end = ceil_minute(now)
    if state["range"] in PRESETS:
        return Period.spanning(end - PRESETS[state["range"]], end)
    until = state.get("until") or end
    since = state.get("since") or until - PRESETS[DEFAULT_RANGE]
    return Period.spanning(since, until)


def trace_state(state: dict, period: Period) -> dict:
    """The traces-list filter state of the dashboard over `period` (for filter_traces and links)."""
    filters = {name: state.get(name, "") for name in TRACE_FILTERS}
    return {**filters, "range": "", "since": period.start, "until": period.end, "tags_mode": "any"}


def traces_link(project_id: str, list_state: dict, **narrower) -> str:
    """The traces list showing the traces behind one bar or point: the dashboard's filters plus
    `narrower` (a bucket's since/until, a model, a user, ...)."""
    query = query_string({**list_state, **narrower}, FILTER_FIELDS)
    return f"/project/{project_id}/traces?{query}"


def dashboard_query(state: dict, **changes) -> str:
    """The dashboard's own shareable query string."""
    state = {**state, **changes}
    fields = ["range", "since", "until", *TRACE_FILTERS, "team_key"]
    if state.get("range") != "custom":
        state = {**state, "since": None, "until": None}
    defaults = {"range": DEFAULT_RANGE, "team_key": DEFAULT_TEAM_KEY}
    pairs = {
        name: state.get(name) for name in fields if state.get(name) not in (None, "", defaults.get(name))
    }
    return query_string(pairs, fields)
