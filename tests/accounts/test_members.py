"""Members: invitations by email link, roles, per-project overrides, removal, ownership."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import invitations
from accounts.models import AuditLog, MembershipInvitation, OrganizationMembership, ProjectMembership, Role
from tests.factories import PASSWORD, add_member, make_project, make_user

pytestmark = pytest.mark.django_db


def invite(client, team, email="new@acme.test", role="MEMBER", **extra):
    client.force_login(team.admin)
    return client.post(f"/organization/{team.org.id}/members/invite", {"email": email, "role": role, **extra})


def link_in_last_email() -> str:
    return re.search(r"http://testserver(/auth/invite/\S+)", mail.outbox[-1].body).group(1)


def test_inviting_emails_a_link_and_stores_only_the_tokens_hash(client, team):
    response = invite(client, team)
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new@acme.test"]
    assert "Acme" in mail.outbox[-1].subject
    token = link_in_last_email().rsplit("/", 1)[1]
    invitation = MembershipInvitation.objects.get(email="new@acme.test")
    assert invitation.token_hash == invitations.hash_token(token)
    assert token not in invitation.token_hash
    assert AuditLog.objects.filter(resource_type="membershipInvitation", action="invite").count() == 1
    assert "new@acme.test" in client.get(f"/organization/{team.org.id}/members").content.decode()


def test_a_new_person_signs_up_from_the_link_and_becomes_a_member(client, team):
    invite(client, team, role="VIEWER")
    link = link_in_last_email()
    client.logout()
    page = client.get(link).content.decode()
    assert "Join Acme" in page
    assert f"/auth/signup/?next={link}" in page.replace("%2F", "/")
    response = client.post(
        f"/auth/signup/?next={link}",
        {"email": "new@acme.test", "password1": "a-long-new-password", "password2": "a-long-new-password"},
    )
    assert response["Location"] == link
    response = client.post(link)
    assert response.status_code == 302
    membership = OrganizationMembership.objects.get(organization=team.org, user__email="new@acme.test")
    assert membership.role == Role.VIEWER
    assert client.get(f"/project/{team.project.id}/traces").status_code == 200
    assert client.post(link).status_code == 404  # used up


def test_an_existing_user_signs_in_and_accepts_with_a_project_role(client, team):
    staging = make_project(team.org, "staging")
    person = make_user("ann@elsewhere.test")
    invite(client, team, email="ann@elsewhere.test", role="VIEWER", project=staging.id, project_role="MEMBER")
    link = link_in_last_email()
    client.logout()
    assert client.post(link)["Location"].startswith("/auth/login/")
    client.post(f"/auth/login/?next={link}", {"login": person.email, "password": PASSWORD})
    response = client.post(link)
    assert response["Location"] == f"/project/{staging.id}/traces"
    assert ProjectMembership.objects.get(project=staging, user=person).role == Role.MEMBER


def test_the_link_does_not_work_for_another_address(client, team):
    invite(client, team)
    link = link_in_last_email()
    client.force_login(team.outsider)
    response = client.post(link)
    assert response.status_code == 400
    assert "This invitation is for new@acme.test" in response.content.decode()
    assert not OrganizationMembership.objects.filter(organization=team.org, user=team.outsider).exists()


def test_an_expired_link_is_refused(client, team):
    invite(client, team)
    link = link_in_last_email()
    MembershipInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link).status_code == 404


def test_inviting_again_replaces_the_earlier_link(client, team):
    invite(client, team)
    first = link_in_last_email()
    invite(client, team)
    assert client.get(first).status_code == 404
    assert client.get(link_in_last_email()).status_code == 200
    assert MembershipInvitation.objects.count() == 1


def test_inviting_an_existing_member_is_refused(client, team):
    response = invite(client, team, email=team.viewer.email)
    assert "already a member" in response.content.decode()
    assert not mail.outbox


def test_an_admin_cannot_invite_an_owner(client, team):
    response = invite(client, team, role="OWNER")
    assert "Only an owner" in response.content.decode()
    assert not MembershipInvitation.objects.exists()


def test_cancelling_an_invitation_kills_its_link(client, team):
    invite(client, team)
    link = link_in_last_email()
    invitation = MembershipInvitation.objects.get()
    client.post(f"/organization/{team.org.id}/invitations/{invitation.id}/cancel")
    assert client.get(link).status_code == 404


def membership(team, user) -> OrganizationMembership:
    return OrganizationMembership.objects.get(organization=team.org, user=user)


def change_role(client, team, actor, user, role):
    client.force_login(actor)
    return client.post(
        f"/organization/{team.org.id}/members/{membership(team, user).id}/role", {"role": role}
    )


def test_an_admin_changes_a_members_role_and_it_takes_effect(client, team):
    change_role(client, team, team.admin, team.viewer, "MEMBER")
    assert membership(team, team.viewer).role == Role.MEMBER
    entry = AuditLog.objects.get(action="roleChange")
    assert (entry.resource_id, entry.before, entry.after) == (
        team.viewer.email,
        {"role": "VIEWER"},
        {"role": "MEMBER"},
    )


def test_role_change_through_htmx_returns_the_members_partial(client, team):
    client.force_login(team.admin)
    response = client.post(
        f"/organization/{team.org.id}/members/{membership(team, team.viewer).id}/role",
        {"role": "ADMIN"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="organization-members",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="organization-members"' in html
    assert f"Role of {team.viewer.email} updated" in html


def test_an_admin_cannot_touch_an_owner(client, team):
    change_role(client, team, team.admin, team.owner, "VIEWER")
    assert membership(team, team.owner).role == Role.OWNER
    change_role(client, team, team.admin, team.member, "OWNER")
    assert membership(team, team.member).role == Role.MEMBER


def test_the_last_owner_cannot_step_down_or_be_removed(client, team):
    response = change_role(client, team, team.owner, team.owner, "ADMIN")
    assert membership(team, team.owner).role == Role.OWNER
    client.post(f"/organization/{team.org.id}/members/{membership(team, team.owner).id}/remove")
    assert membership(team, team.owner).role == Role.OWNER
    page = client.get(response["Location"]).content.decode()
    assert "at least one owner" in page


def test_with_two_owners_one_may_step_down(client, team):
    change_role(client, team, team.owner, team.admin, "OWNER")
    change_role(client, team, team.owner, team.owner, "ADMIN")
    assert membership(team, team.owner).role == Role.ADMIN


def test_removing_a_member_also_drops_their_project_roles(client, team):
    ProjectMembership.objects.create(project=team.project, user=team.member, role=Role.ADMIN)
    client.force_login(team.admin)
    client.post(f"/organization/{team.org.id}/members/{membership(team, team.member).id}/remove")
    assert not OrganizationMembership.objects.filter(user=team.member).exists()
    assert not ProjectMembership.objects.filter(user=team.member).exists()
    client.force_login(team.member)
    assert client.get(f"/project/{team.project.id}/traces").status_code == 404
    assert AuditLog.objects.filter(action="remove", resource_id=team.member.email).exists()


def test_transfer_ownership_swaps_owner_and_admin(client, team):
    client.force_login(team.owner)
    response = client.post(
        f"/organization/{team.org.id}/transfer-ownership", {"membership": membership(team, team.member).id}
    )
    assert response.status_code == 302
    assert membership(team, team.member).role == Role.OWNER
    assert membership(team, team.owner).role == Role.ADMIN
    assert AuditLog.objects.filter(action="transferOwnership").count() == 1


def test_a_project_override_raises_or_hides_access(client, team):
    client.force_login(team.admin)
    url = f"/project/{team.project.id}/settings/members/{team.viewer.pk}/role"
    client.post(url, {"role": "ADMIN"})
    client.force_login(team.viewer)
    assert client.get(f"/project/{team.project.id}/settings/api-keys").status_code == 200
    client.force_login(team.admin)
    client.post(url, {"role": "NONE"})
    client.force_login(team.viewer)
    assert client.get(f"/project/{team.project.id}/traces").status_code == 404
    client.force_login(team.admin)
    client.post(url, {"role": ""})
    assert not ProjectMembership.objects.filter(user=team.viewer).exists()
    entries = AuditLog.objects.filter(resource_type="projectMembership").order_by("created_at")
    assert [e.after["role"] for e in entries] == ["ADMIN", "NONE", None]


def test_the_project_members_page_shows_effective_roles(client, team):
    ProjectMembership.objects.create(project=team.project, user=team.viewer, role=Role.MEMBER)
    client.force_login(team.member)
    html = client.get(f"/project/{team.project.id}/settings/members").content.decode()
    assert team.viewer.email in html
    assert '<span class="role role-member">MEMBER</span>' in html
    assert "/settings/members/" not in html  # members read, admins change


def test_project_roles_are_only_for_organisation_members(client, team):
    stranger = make_user()
    add_member(team.org, stranger, Role.VIEWER)
    client.force_login(team.admin)
    url = f"/project/{team.project.id}/settings/members/{team.outsider.pk}/role"
    assert client.post(url, {"role": "ADMIN"}).status_code == 404
