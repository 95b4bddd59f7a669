"""The audit log: written by every action, readable by admins with filters, never editable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import AuditLog, AuditLogImmutable
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_record_takes_the_organisation_from_the_project_and_the_actor(team):
    entry = audit.record(
        action="labelMove",
        resource_type="prompt",
        resource_id="greeting",
        actor=team.member,
        project=team.project,
        before={"production": 1},
        after={"production": 2},
    )
    entry = AuditLog.objects.get(pk=entry.pk)
    assert (entry.organization_id, entry.project_id) == (team.org.id, team.project.id)
    assert (entry.user_id, entry.user_email) == (team.member.pk, team.member.email)
    assert entry.after == {"production": 2}


def test_an_entry_rolls_back_with_its_action(team):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(action="delete", resource_type="trace", project=team.project, actor=team.admin)
        raise RuntimeError("the action failed")
    assert not AuditLog.objects.exists()


def test_entries_cannot_be_changed_or_deleted(team):
    entry = audit.record(action="create", resource_type="project", project=team.project, actor=team.owner)
    entry.action = "nothing happened"
    with pytest.raises(AuditLogImmutable):
        entry.save()
    with pytest.raises(AuditLogImmutable):
        entry.delete()


def test_the_database_refuses_updates_too(team):
    audit.record(action="create", resource_type="project", project=team.project, actor=team.owner)
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        AuditLog.objects.update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditlog SET user_email = 'someone@else'")


def test_sign_in_is_recorded_for_each_organisation_of_the_user(client, team):
    client.post("/auth/login/", {"login": team.viewer.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    entry = AuditLog.objects.get(action="signIn")
    assert (entry.organization_id, entry.user_email) == (team.org.id, team.viewer.email)
    assert entry.after == {"ip": "10.0.0.7"}


def test_a_failed_sign_in_writes_nothing(client, team):
    client.post("/auth/login/", {"login": team.viewer.email, "password": "wrong"})
    assert not AuditLog.objects.filter(action="signIn").exists()


def make_history(team):
    audit.record(
        action="create", resource_type="apiKey", resource_id="k1", actor=team.admin, project=team.project
    )
    audit.record(
        action="revoke", resource_type="apiKey", resource_id="k1", actor=team.owner, project=team.project
    )
    audit.record(
        action="invite",
        resource_type="membershipInvitation",
        resource_id="x@y.z",
        actor=team.admin,
        organization=team.org,
    )
    audit.record(action="rename", resource_type="project", actor=team.admin, project=team.project)
    backdated = AuditLog(
        organization_id=team.org.id,
        project_id=team.project.id,
        resource_type="project",
        action="create",
        user_email=team.owner.email,
        created_at=timezone.now() - timedelta(days=10),
    )
    backdated.save()
    audit.record(action="create", resource_type="project", actor=team.outsider, project=team.other_project)


def rows(client, url: str) -> str:
    return client.get(url).content.decode()


def count_entries(html: str, action: str | None = None) -> int:
    """Entry rows in the table, leaving out the sign-in that force_login itself records."""
    table = html.split('id="audit-log"', 1)[1]
    return table.count("<td><time") - table.count("<code>signIn</code>")


def test_the_organisation_log_lists_its_entries_newest_first(client, team):
    make_history(team)
    client.force_login(team.admin)
    html = rows(client, f"/organization/{team.org.id}/audit-log")
    assert count_entries(html) == 5  # the other organisation's entry is not here
    assert (
        html.index("<code>rename</code>")
        < html.index("<code>revoke</code>")
        < html.index("<code>create</code>")
    )
    assert team.outsider.email not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=revoke", 1),
        ("resource_type=apiKey", 2),
        ("resource_id=k1", 2),
        ("actor=owner", 2),
        ("since={today}", 4),
        ("until={ten_days_ago}", 1),
    ],
)
def test_the_log_filters_by_action_actor_resource_and_date(client, team, query, expected):
    make_history(team)
    today = timezone.localdate()
    query = query.format(today=today.isoformat(), ten_days_ago=(today - timedelta(days=10)).isoformat())
    client.force_login(team.admin)
    html = rows(client, f"/organization/{team.org.id}/audit-log?{query}")
    assert count_entries(html) == expected


def test_the_htmx_filter_answers_with_the_table_partial(client, team):
    make_history(team)
    client.force_login(team.admin)
    response = client.get(
        f"/organization/{team.org.id}/audit-log?action=revoke",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="audit-log",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="audit-log"')
    assert count_entries(html) == 1


def test_the_project_log_shows_only_the_projects_entries(client, team):
    make_history(team)
    client.force_login(team.admin)
    html = rows(client, f"/project/{team.project.id}/settings/audit-log")
    assert count_entries(html) == 4
    assert "membershipInvitation" not in html.split('id="audit-log"')[1]


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_read_the_log(client, team, role):
    client.force_login(getattr(team, role))
    assert client.get(f"/organization/{team.org.id}/audit-log").status_code == 403
    assert client.get(f"/project/{team.project.id}/settings/audit-log").status_code == 403


def test_the_log_has_no_way_to_write(client, team):
    client.force_login(team.owner)
    assert client.post(f"/organization/{team.org.id}/audit-log", {"action": "x"}).status_code == 405


def test_operator_commands_are_audited_as_the_system(team):
    from io import StringIO

    from django.core.management import call_command

    call_command("create_api_key", "--project", team.project.id, "--note", "ops", stdout=StringIO())
    call_command("revoke_api_key", team.public_key, stdout=StringIO())
    entries = AuditLog.objects.filter(resource_type="apiKey").order_by("created_at")
    assert [(e.action, e.user_id, e.project_id) for e in entries] == [
        ("create", None, team.project.id),
        ("revoke", None, team.project.id),
    ]
