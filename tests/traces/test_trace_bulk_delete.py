from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.traces.list_data import make_observation, make_score, make_trace, make_traces, row_ids
from traces import bulk_delete
from traces.models import Comment, CommentObjectType, Observation, Score, Trace

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "delete-progress"}


def delete_url(project) -> str:
    return f"/project/{project.id}/traces/actions/delete"


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """The hidden inputs of the confirmation form (or of a progress partial)."""
    form = html.split('hx-post="')[1] if 'hx-post="' in html else html
    return [
        (name, value.replace("&amp;", "&"))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
        if name != "csrfmiddlewaretoken"
    ]


def with_children(project, trace: Trace) -> None:
    observation = make_observation(project, trace, type="GENERATION", provided_model_name="gpt-4o")
    make_score(project, trace, "quality", 1.0)
    Score.objects.create(project=project, id=f"obs-score-{trace.id}", observation_id=observation.id, name="x")
    Comment.objects.create(
        project=project, object_type=CommentObjectType.TRACE, object_id=trace.id, content="hi"
    )


@pytest.fixture
def admin(client, team):
    client.force_login(team.admin)
    return client


# --- Access -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["viewer", "member"])
def test_viewers_and_members_cannot_delete(client, team, persona):
    make_traces(team.project, 2)
    client.force_login(getattr(team, persona))
    assert client.get(delete_url(team.project), {"name": "x"}).status_code == 403
    response = client.post(delete_url(team.project), {"filter": "", "as_of": timezone.now().isoformat()})
    assert response.status_code == 403
    assert Trace.objects.filter(project=team.project).count() == 2


def test_outsider_gets_404_and_deletes_nothing(client, team):
    make_traces(team.project, 2)
    client.force_login(team.outsider)
    assert client.get(delete_url(team.project)).status_code == 404
    assert client.post(delete_url(team.project), {"as_of": timezone.now().isoformat()}).status_code == 404
    assert Trace.objects.filter(project=team.project).count() == 2


# --- Confirmation --------------------------------------------------------------------------


def test_confirmation_shows_the_exact_count_of_traces_matching_the_filter(admin, team):
    make_traces(team.project, 7, user_id="ada")
    make_traces(team.project, 3, prefix="bob", user_id="bob")
    response = admin.get(delete_url(team.project), {"user": "ada", "sort": "cost"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="count" id="delete-count">7</span> traces' in html
    assert "<dt>User</dt><dd>ada</dd>" in html
    assert ("filter", "user=ada") in hidden_fields(html)
    assert "Delete 7 traces" in html
    assert Trace.objects.filter(project=team.project).count() == 10


def test_confirmation_without_a_filter_warns_it_is_every_trace(admin, team):
    make_traces(team.project, 4)
    html = admin.get(delete_url(team.project)).content.decode()
    assert "every trace of the project" in html
    assert '<span class="count" id="delete-count">4</span>' in html


def test_confirmation_for_selected_rows_counts_only_this_projects_traces(admin, team):
    make_traces(team.project, 3)
    make_traces(team.other_project, 1, prefix="theirs")
    response = admin.get(
        delete_url(team.project), {"selection": "1", "ids": ["t-0000", "t-0002", "theirs-0000", "missing"]}
    )
    html = response.content.decode()
    assert '<span class="count" id="delete-count">2</span> traces' in html
    assert "you selected" in html
    assert [value for name, value in hidden_fields(html) if name == "ids"] == [
        "t-0000",
        "t-0002",
        "theirs-0000",
        "missing",
    ]


def test_submitting_the_selection_form_with_nothing_ticked_never_means_everything(admin, team):
    make_traces(team.project, 3)
    response = admin.get(delete_url(team.project), {"selection": "1"}, follow=True)
    assert "Tick at least one trace" in response.content.decode()
    assert Trace.objects.filter(project=team.project).count() == 3


def test_nothing_matching_means_nothing_to_delete(admin, team):
    html = admin.get(delete_url(team.project), {"name": "nope"}).content.decode()
    assert "nothing to delete" in html
    assert 'hx-post="' not in html


# --- Deleting ------------------------------------------------------------------------------


def test_without_javascript_one_post_deletes_every_match_and_redirects_to_the_empty_filter(admin, team):
    for trace in make_traces(team.project, 5, user_id="ada"):
        with_children(team.project, trace)
    keep = make_trace(team.project, "keep", user_id="bob")
    with_children(team.project, keep)
    html = admin.get(delete_url(team.project), {"user": "ada"}).content.decode()
    response = admin.post(delete_url(team.project), dict(hidden_fields(html)))
    assert response.status_code == 302
    assert response["Location"] == f"/project/{team.project.id}/traces?user=ada"
    page = admin.get(response["Location"]).content.decode()
    assert row_ids(page) == []
    assert "Deleted 5 traces" in page
    assert list(Trace.objects.filter(project=team.project).values_list("id", flat=True)) == ["keep"]
    assert list(Observation.objects.filter(project=team.project).values_list("trace_id", flat=True)) == [
        "keep"
    ]
    assert Score.objects.filter(project=team.project).count() == 2  # keep's trace score and observation score
    assert list(Comment.objects.filter(project=team.project).values_list("object_id", flat=True)) == ["keep"]


def test_with_htmx_batches_report_progress_until_every_match_is_gone(admin, team, monkeypatch):
    monkeypatch.setattr(bulk_delete, "BATCH_SIZE", 10)
    for trace in make_traces(team.project, 25, name="doomed"):
        with_children(team.project, trace)
    make_trace(team.project, "survivor", name="other")
    html = admin.get(delete_url(team.project), {"name": "doomed"}).content.decode()
    fields = dict(hidden_fields(html))
    progress = []
    for _ in range(10):
        response = admin.post(delete_url(team.project), fields, **HTMX)
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        progress.append(re.search(r'<progress max="(\d+)" value="(\d+)"', body).groups())
        if 'hx-trigger="load"' not in body:
            break
        fields = dict(hidden_fields(body))
    assert progress == [("25", "10"), ("25", "20"), ("25", "25")]
    assert "Deleted 25 traces" in body
    assert Trace.objects.filter(project=team.project, name="doomed").count() == 0
    assert Observation.objects.filter(project=team.project).exclude(trace_id="survivor").count() == 0
    assert Score.objects.filter(project=team.project).count() == 0
    assert row_ids(admin.get(f"/project/{team.project.id}/traces", {"name": "doomed"}).content.decode()) == []
    assert Trace.objects.filter(project=team.project, id="survivor").exists()


def test_selected_rows_are_deleted_and_nothing_else(admin, team):
    make_traces(team.project, 4)
    make_traces(team.other_project, 1, prefix="t")  # same id in another project
    html = admin.get(
        delete_url(team.project), {"selection": "1", "ids": ["t-0000", "t-0003"]}
    ).content.decode()
    response = admin.post(delete_url(team.project), hidden_fields_dict(html), **HTMX)
    assert "Deleted 2 traces" in response.content.decode()
    assert sorted(Trace.objects.filter(project=team.project).values_list("id", flat=True)) == [
        "t-0001",
        "t-0002",
    ]
    assert Trace.objects.filter(project=team.other_project, id="t-0000").exists()


def hidden_fields_dict(html: str) -> dict:
    fields: dict = {}
    for name, value in hidden_fields(html):
        fields.setdefault(name, []).append(value)
    return fields


def test_traces_stored_after_the_confirmation_are_left_alone(admin, team):
    make_traces(team.project, 3, name="chat")
    html = admin.get(delete_url(team.project), {"name": "chat"}).content.decode()
    late = make_trace(team.project, "late", name="chat")
    Trace.objects.filter(pk=late.pk).update(created_at=timezone.now() + timedelta(seconds=1))
    admin.post(delete_url(team.project), dict(hidden_fields(html)))
    assert list(Trace.objects.filter(project=team.project).values_list("id", flat=True)) == ["late"]


def test_a_time_preset_counts_back_from_the_confirmation(admin, team):
    make_trace(team.project, "recent", ago=timedelta(minutes=10))
    make_trace(team.project, "old", ago=timedelta(hours=3))
    html = admin.get(delete_url(team.project), {"range": "1h"}).content.decode()
    assert re.search(r'id="delete-count">1</span> trace\s', html)
    admin.post(delete_url(team.project), dict(hidden_fields(html)))
    assert list(Trace.objects.filter(project=team.project).values_list("id", flat=True)) == ["old"]


def test_a_damaged_request_is_refused(admin, team):
    make_traces(team.project, 2)
    assert admin.post(delete_url(team.project), {"filter": "", "as_of": "yesterday"}).status_code == 400
    assert Trace.objects.filter(project=team.project).count() == 2
