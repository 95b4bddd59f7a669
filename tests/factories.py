"""Small factory functions for test data. Plain functions, no fixtures files."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from accounts import api_keys
from accounts.models import Organization, OrganizationMembership, Project, Role, User

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(email: str | None = None, password: str = PASSWORD, **fields) -> User:
    email = email or f"user{next(_counter)}@example.com"
    return User.objects.create_user(email=email, password=password, **fields)


def make_org(name: str | None = None) -> Organization:
    return Organization.objects.create(name=name or f"Org {next(_counter)}")


def make_project(org: Organization | None = None, name: str | None = None, **fields) -> Project:
    return Project.objects.create(
        organization=org or make_org(), name=name or f"project-{next(_counter)}", **fields
    )


def add_member(org: Organization, user: User, role: Role) -> OrganizationMembership:
    return OrganizationMembership.objects.create(organization=org, user=user, role=role)


def make_key(project: Project, **kwargs) -> tuple[str, str]:
    key, secret = api_keys.create_api_key(project=project, **kwargs)
    return key.public_key, secret


@dataclass
class Team:
    org: Organization
    project: Project
    owner: User
    admin: User
    member: User
    viewer: User
    outsider: User
    other_project: Project
    public_key: str
    secret_key: str


def make_project_with_roles() -> Team:
    org = make_org("Acme")
    project = make_project(org, "production")
    users = {
        role: make_user(f"{role.lower()}{next(_counter)}@acme.test")
        for role in ("OWNER", "ADMIN", "MEMBER", "VIEWER")
    }
    for role, user in users.items():
        add_member(org, user, Role(role))
    other_org = make_org("Other")
    other_project = make_project(other_org, "elsewhere")
    outsider = make_user(f"outsider{next(_counter)}@other.test")
    add_member(other_org, outsider, Role.OWNER)
    public_key, secret_key = make_key(project)
    return Team(
        org=org,
        project=project,
        owner=users["OWNER"],
        admin=users["ADMIN"],
        member=users["MEMBER"],
        viewer=users["VIEWER"],
        outsider=outsider,
        other_project=other_project,
        public_key=public_key,
        secret_key=secret_key,
    )


def ensure_default_prices() -> None:
    """Load the default model prices unless they are there (transactional tests truncate tables)."""
    from traces.models import LlmModel
    from traces.pricing_defaults import load_default_prices

    if not LlmModel.objects.defaults().exists():
        load_default_prices()
        try:
            from traces.pricing import clear_model_cache
        except ImportError:  # pragma: no cover
            return
        clear_model_cache()
