"""Public API of accounts: the key's project (project keys) and the organisation API (org keys).

Shapes follow Langfuse's OpenAPI spec (Projects, ApiKeyList, MembershipsResponse, ...). Every
write calls the same actions as the HTML pages, so the audit log names the API key that acted.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse

from accounts import key_admin, memberships, projects
from accounts.access import AccessLevel, api_error, api_route
from accounts.errors import ActionRefused
from accounts.models import ApiKey, OrganizationMembership, Project, ProjectMembership, Role, User
from traces.api.dispatch import methods

org_route = api_route(access=AccessLevel.ORGANIZATION)


def project_json(project: Project) -> dict:
    body = {
        "id": project.id,
        "name": project.name,
        "organization": {"id": project.organization_id, "name": project.organization.name},
        "metadata": project.metadata or {},
        "retentionDays": project.retention_days,
    }
    return body


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def key_json(key: ApiKey) -> dict:
    return {
        "id": key.id,
        "createdAt": _iso(key.created_at),
        "expiresAt": _iso(key.expires_at),
        "lastUsedAt": _iso(key.last_used_at),
        "note": key.note or None,
        "publicKey": key.public_key,
        "displaySecretKey": key.display_secret_key,
    }


def membership_json(user: User, role: str) -> dict:
    return {"userId": str(user.pk), "role": role, "email": user.email, "name": user.name}


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ActionRefused("The request body is not valid JSON") from None
    except RecursionError:
        raise ActionRefused("The request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ActionRefused("The request body must be a JSON object")
    return body


def _refused(exc: ActionRefused) -> JsonResponse:
    return api_error(str(exc), 400, "InvalidRequestError")


def _org_project(request: HttpRequest, project_id: str) -> Project | None:
    return (
        Project.objects.select_related("organization")
        .filter(pk=project_id, organization=request.caller.organization)
        .first()
    )


def _not_found(what: str) -> JsonResponse:
    return api_error(f"{what} not found in the organisation of this API key", 404, "NotFoundError")


# --- /projects ----------------------------------------------------------------------------


@api_route(access=AccessLevel.PROJECT)
def get_own_project(request: HttpRequest) -> JsonResponse:
    """GET /api/public/projects: the key's own project, in the shape every SDK's auth_check() parses."""
    return JsonResponse({"data": [project_json(request.project)]})


@org_route
def create_project(request: HttpRequest) -> JsonResponse:
    try:
        body = _body(request)
        if not isinstance(body.get("name"), str):
            raise ActionRefused("name is required")
        project = projects.create_project(
            request.caller.organization,
            body["name"],
            request.caller.key,
            metadata=_metadata(body),
            retention_days=body.get("retention"),
        )
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse(project_json(project))


def _metadata(body: dict) -> dict | None:
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ActionRefused("metadata must be an object")
    return metadata


@org_route
def update_project(request: HttpRequest, project_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    try:
        body = _body(request)
        if not isinstance(body.get("name"), str):
            raise ActionRefused("name is required")
        changes = {"name": body["name"]}
        if "metadata" in body:
            changes["metadata"] = _metadata(body)
        if "retention" in body:
            changes["retention_days"] = body["retention"]
        projects.update_project(project, request.caller.key, **changes)
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse(project_json(project))


@org_route
def delete_project(request: HttpRequest, project_id: str) -> JsonResponse:
    """Deletes synchronously (Langfuse answers 202 and deletes later; the status code is kept)."""
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    projects.delete_project(project, request.caller.key)
    return JsonResponse({"success": True, "message": "Project and all its data deleted"}, status=202)


# --- /projects/{id}/apiKeys ---------------------------------------------------------------


@org_route
def list_project_keys(request: HttpRequest, project_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    keys = ApiKey.objects.active().filter(project=project).order_by("created_at")
    return JsonResponse({"apiKeys": [key_json(k) for k in keys]})


@org_route
def create_project_key(request: HttpRequest, project_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    try:
        body = _body(request)
        for field in ("note", "publicKey", "secretKey"):
            if body.get(field) is not None and not isinstance(body[field], str):
                raise ActionRefused(f"{field} must be a string")
        key, secret = key_admin.create_key(
            request.caller.key,
            project=project,
            note=body.get("note") or "",
            public_key=body.get("publicKey") or None,
            secret_key=body.get("secretKey") or None,
        )
    except ActionRefused as exc:
        return _refused(exc)
    body = {
        k: v
        for k, v in key_json(key).items()
        if k in ("id", "createdAt", "publicKey", "displaySecretKey", "note")
    }
    return JsonResponse({**body, "secretKey": secret})


@org_route
def delete_project_key(request: HttpRequest, project_id: str, api_key_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    key = ApiKey.objects.active().filter(pk=api_key_id, project=project).first() if project else None
    if key is None:
        return _not_found("API key")
    key_admin.revoke_key(key, request.caller.key)
    return JsonResponse({"success": True})


# --- /projects/{projectId}/memberships: per-project role overrides -------------------------


@org_route
def list_project_memberships(request: HttpRequest, project_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    rows = ProjectMembership.objects.filter(project=project).select_related("user").order_by("user__email")
    return JsonResponse({"memberships": [membership_json(m.user, m.role) for m in rows]})


@org_route
def upsert_project_membership(request: HttpRequest, project_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    try:
        body = _body(request)
        user = _member_user(body)
        if body.get("role") not in memberships.PROJECT_ROLES:
            raise ActionRefused(f"role must be one of {', '.join(memberships.PROJECT_ROLES)}")
        memberships.set_project_role(project, user, Role(body["role"]), request.caller.key)
    except LookupError as exc:
        return api_error(str(exc), 404, "NotFoundError")
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse(membership_json(user, body["role"]))


@org_route
def delete_project_membership(request: HttpRequest, project_id: str) -> JsonResponse:
    project = _org_project(request, project_id)
    if project is None:
        return _not_found("Project")
    try:
        user = _member_user(_body(request))
        if not ProjectMembership.objects.filter(project=project, user=user).exists():
            raise LookupError("This user has no project role in this project")
        memberships.set_project_role(project, user, None, request.caller.key)
    except LookupError as exc:
        return api_error(str(exc), 404, "NotFoundError")
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse({"message": "Membership deleted", "userId": str(user.pk)})


# --- /organizations/... -------------------------------------------------------------------


@org_route
def list_memberships(request: HttpRequest) -> JsonResponse:
    rows = (
        OrganizationMembership.objects.filter(organization=request.caller.organization)
        .select_related("user")
        .order_by("user__email")
    )
    return JsonResponse({"memberships": [membership_json(m.user, m.role) for m in rows]})


def _member_user(body: dict) -> User:
    user_id = str(body.get("userId") or "")
    user = User.objects.filter(pk=int(user_id)).first() if user_id.isdigit() else None
    if user is None:
        raise LookupError(f"No user with id {user_id!r}; users sign up before they can be added")
    return user


@org_route
def upsert_membership(request: HttpRequest) -> JsonResponse:
    try:
        body = _body(request)
        user = _member_user(body)
        if body.get("role") not in memberships.ORG_ROLES:
            raise ActionRefused(f"role must be one of {', '.join(memberships.ORG_ROLES)}")
        membership = memberships.add_member(
            request.caller.organization, user, Role(body["role"]), request.caller.key
        )
    except LookupError as exc:
        return api_error(str(exc), 404, "NotFoundError")
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse(membership_json(user, membership.role))


@org_route
def delete_membership(request: HttpRequest) -> JsonResponse:
    try:
        user = _member_user(_body(request))
        membership = OrganizationMembership.objects.filter(
            organization=request.caller.organization, user=user
        ).first()
        if membership is None:
            raise LookupError("This user is not a member of the organisation")
        memberships.remove_member(membership, request.caller.key)
    except LookupError as exc:
        return api_error(str(exc), 404, "NotFoundError")
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse({"message": "Membership deleted", "userId": str(user.pk)})


@org_route
def list_organization_projects(request: HttpRequest) -> JsonResponse:
    rows = Project.objects.filter(organization=request.caller.organization).order_by("name")
    return JsonResponse(
        {
            "projects": [
                {
                    "id": p.id,
                    "name": p.name,
                    "metadata": p.metadata or {},
                    "createdAt": _iso(p.created_at),
                    "updatedAt": _iso(p.updated_at),
                }
                for p in rows
            ]
        }
    )


@org_route
def list_organization_keys(request: HttpRequest) -> JsonResponse:
    keys = ApiKey.objects.active().filter(organization=request.caller.organization).order_by("created_at")
    return JsonResponse({"apiKeys": [key_json(k) for k in keys]})


projects_route = methods(GET=get_own_project, POST=create_project)
project_route = methods(PUT=update_project, DELETE=delete_project)
project_keys_route = methods(GET=list_project_keys, POST=create_project_key)
project_key_route = methods(DELETE=delete_project_key)
project_memberships_route = methods(
    GET=list_project_memberships, PUT=upsert_project_membership, DELETE=delete_project_membership
)
memberships_route = methods(GET=list_memberships, PUT=upsert_membership, DELETE=delete_membership)
organization_projects_route = methods(GET=list_organization_projects)
organization_keys_route = methods(GET=list_organization_keys)
