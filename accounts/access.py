"""The one place that answers: may this user, or this API key, read or write this project?

Every HTML view and every public API route goes through these helpers. A project the
caller cannot read answers 404, never 403, so ids of other tenants leak nothing.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from accounts import api_keys
from accounts.models import (
    ROLE_RANK,
    ApiKey,
    ApiKeyScope,
    Organization,
    OrganizationMembership,
    Project,
    ProjectMembership,
    Role,
    User,
)
from langfuse_ui import throttle


def organization_role(user: User, organization: Organization | str) -> Role | None:
    if not user.is_authenticated:
        return None
    org_id = getattr(organization, "pk", organization)
    role = OrganizationMembership.objects.filter(user=user, organization_id=org_id).values_list(
        "role", flat=True
    )
    return Role(role[0]) if role else None


def project_role(user: User, project: Project) -> Role | None:
    """The project-level override if there is one, else the organisation role."""
    if not user.is_authenticated:
        return None
    override = ProjectMembership.objects.filter(user=user, project=project).values_list("role", flat=True)
    if override:
        role = Role(override[0])
    else:
        role = organization_role(user, project.organization_id)
    if role is None or role == Role.NONE:
        return None
    return role


def has_role(role: Role | None, minimum: Role) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


def get_project_for_reader(user: User, project_id: str) -> tuple[Project, Role]:
    project = Project.objects.select_related("organization").filter(pk=project_id).first()
    role = project_role(user, project) if project else None
    if project is None or role is None:
        raise Http404("No such project")
    return project, role


def get_project_for_writer(user: User, project_id: str, minimum: Role = Role.MEMBER) -> tuple[Project, Role]:
    project, role = get_project_for_reader(user, project_id)
    if not has_role(role, minimum):
        raise PermissionDenied(f"This needs the {minimum.label} role or higher in the project")
    return project, role


def project_view(minimum: Role = Role.VIEWER) -> Callable:
    """Decorate an HTML view taking project_id; sets request.project and request.role."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, project_id: str, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if minimum == Role.VIEWER:
                request.project, request.role = get_project_for_reader(request.user, project_id)
            else:
                request.project, request.role = get_project_for_writer(request.user, project_id, minimum)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def get_organization_for_member(
    user: User, organization_id: str, minimum: Role = Role.VIEWER
) -> tuple[Organization, Role]:
    """The organisation and the user's role in it; 404 for non-members, 403 below `minimum`."""
    org = Organization.objects.filter(pk=organization_id).first()
    role = organization_role(user, org) if org else None
    if org is None or role is None or role == Role.NONE:
        raise Http404("No such organisation")
    if not has_role(role, minimum):
        raise PermissionDenied(f"This needs the {minimum.label} role or higher in the organisation")
    return org, role


def organization_view(minimum: Role = Role.VIEWER) -> Callable:
    """Decorate an HTML view taking org_id; sets request.organization and request.org_role."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, org_id: str, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            request.organization, request.org_role = get_organization_for_member(
                request.user, org_id, minimum
            )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# --- Public API -------------------------------------------------------------------------


class AccessLevel:
    PROJECT = "project"  # full access with a project key pair
    SCORES = "scores"  # Bearer public key: may only create scores
    ORGANIZATION = "organization"


@dataclass(frozen=True)
class ApiCaller:
    key: ApiKey
    access: str

    @property
    def project(self) -> Project | None:
        return self.key.project

    @property
    def organization(self) -> Organization:
        return self.key.organization or self.key.project.organization


class ApiAuthError(Exception):
    """`guessed_key` is the public key of a failed key check: such failures count to rate limits."""

    def __init__(self, message: str, status: int = 401, guessed_key: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.guessed_key = guessed_key


def authenticate_header(header: str | None, *, allow_bearer: bool = False) -> ApiCaller:
    """Turn an Authorization header into a caller, or raise ApiAuthError with a useful message."""
    if not header:
        raise ApiAuthError(
            "No authorization header: send Basic auth with your public key as user and secret key as password"
        )
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer" and allow_bearer:
        key = api_keys.find_public_key(credentials)
        if key is None:
            raise ApiAuthError("Invalid public key in Bearer token", guessed_key=credentials)
        api_keys.touch_last_used(key)
        return ApiCaller(key, AccessLevel.SCORES)
    if scheme != "basic":
        raise ApiAuthError("Unsupported authorization scheme: use Basic auth with public key and secret key")
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiAuthError(
            "Malformed Basic auth header: expected base64 of 'public_key:secret_key'"
        ) from None
    public_key, sep, secret_key = decoded.partition(":")
    if not sep or not public_key or not secret_key:
        raise ApiAuthError("Malformed Basic auth header: expected base64 of 'public_key:secret_key'")
    key = api_keys.find_key(public_key, secret_key)
    if key is None:
        raise ApiAuthError(
            "Invalid credentials: the public key is unknown, revoked, or the secret key is wrong",
            guessed_key=public_key,
        )
    api_keys.touch_last_used(key)
    access = AccessLevel.ORGANIZATION if key.scope == ApiKeyScope.ORGANIZATION else AccessLevel.PROJECT
    return ApiCaller(key, access)


def _ip_limit() -> throttle.Limit:
    return throttle.Limit("api-ip", settings.API_AUTH_FAILURES_PER_IP)


def _key_limit() -> throttle.Limit:
    return throttle.Limit("api-key", settings.API_AUTH_FAILURES_PER_KEY)


def _claimed_public_key(header: str | None) -> str | None:
    """The public key an Authorization header names, without checking anything."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    try:
        return base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None


def too_many_failures(seconds: int) -> JsonResponse:
    response = api_error(
        f"Too many failed authentications from this address or for this public key; retry in {seconds} s "
        "with the right key pair (LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)",
        429,
        "TooManyRequests",
    )
    response["Retry-After"] = str(seconds)
    return response


def authenticate_request(request: HttpRequest, *, allow_bearer: bool = False) -> ApiCaller | JsonResponse:
    """The caller, or the 401/429 answer (langfuse_ui/throttle.py counts failed key checks).

    A public key past its limit gets 429 before its secret is checked, so no answer tells a guesser
    which guess was right. An address past its limit gets 429 for its failed checks only: behind a
    shared proxy or NAT, one broken client must not lock out the others.
    """
    header = request.headers.get("Authorization")
    claimed = _claimed_public_key(header)
    blocked = throttle.retry_after([_key_limit().bucket(claimed)]) if claimed is not None else None
    if blocked:
        return too_many_failures(blocked)
    try:
        return authenticate_header(header, allow_bearer=allow_bearer)
    except ApiAuthError as exc:
        if exc.guessed_key is not None:
            address = request.META.get("REMOTE_ADDR", "")
            seconds = throttle.record_failure([(_ip_limit(), address), (_key_limit(), exc.guessed_key)])
            if seconds:
                return too_many_failures(seconds)
        return api_error(str(exc), exc.status, "Unauthorized")


def api_error(message: str, status: int, error: str | None = None) -> JsonResponse:
    body = {"message": message}
    if error:
        body["error"] = error
    return JsonResponse(body, status=status)


def api_route(*, access: str = AccessLevel.PROJECT, allow_bearer: bool = False) -> Callable:
    """Decorate a public API view: authenticate, check the access level, set request.caller.

    Project routes also set request.project, the only project the view may touch.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            caller = authenticate_request(request, allow_bearer=allow_bearer)
            if isinstance(caller, JsonResponse):
                return caller
            if access == AccessLevel.ORGANIZATION and caller.access != AccessLevel.ORGANIZATION:
                return api_error("This route needs an organisation-scoped API key", 403, "Forbidden")
            if access in (AccessLevel.PROJECT, AccessLevel.SCORES):
                if caller.access == AccessLevel.ORGANIZATION:
                    return api_error(
                        "Missing projectId in scope: this route needs a project API key, not an organisation key",
                        403,
                        "Forbidden",
                    )
                if caller.access == AccessLevel.SCORES and access != AccessLevel.SCORES:
                    return api_error("A public key alone may only create scores", 401, "Unauthorized")
            request.caller = caller
            request.project = caller.project
            return view(request, *args, **kwargs)

        wrapper.csrf_exempt = True
        return wrapper

    return decorate
