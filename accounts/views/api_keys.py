"""API key admin: one page per project (ADMIN+) and one per organisation (OWNER)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import key_admin
from accounts.access import organization_view, project_view
from accounts.errors import ActionRefused
from accounts.forms import ApiKeyCreateForm, RotateForm
from accounts.models import ApiKey, Role
from accounts.settings_pages import organization_links, project_links
from accounts.views.responses import after_action, refused
from langfuse_ui.htmx import render_page

PROJECT_PAGE = "settings/api_keys.html"
ORG_PAGE = "accounts/organization_api_keys.html"


def public_base_url(request: HttpRequest) -> str:
    """What an SDK's LANGFUSE_HOST should be: NEXTAUTH_URL when set, else the address in use."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def _key_rows(keys):
    return keys.select_related("created_by").order_by("-created_at")


def _project_context(request: HttpRequest, form=None, created=None, secret: str = "") -> dict:
    keys = ApiKey.objects.active().filter(project=request.project)
    return {
        "settings_links": project_links(request),
        "keys": _key_rows(keys),
        "form": form or ApiKeyCreateForm(),
        "rotate_form": RotateForm(),
        "created": created,
        "secret": secret,
        "langfuse_host": public_base_url(request),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Role.ADMIN)
def project_keys(request: HttpRequest) -> HttpResponse:
    """GET lists the keys; POST creates a pair and shows its secret this once."""
    if request.method != "POST":
        return render_page(request, PROJECT_PAGE, _project_context(request))
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return render_page(request, PROJECT_PAGE, _project_context(request, form=form), "api-keys")
    key, secret = key_admin.create_key(request.user, project=request.project, note=form.cleaned_data["note"])
    context = _project_context(request, created=key, secret=secret)
    return render_page(request, PROJECT_PAGE, context, "api-keys")


def _project_key(request: HttpRequest, key_id: str) -> ApiKey:
    return get_object_or_404(ApiKey.objects.active(), pk=key_id, project=request.project)


@require_POST
@project_view(Role.ADMIN)
def project_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    key = _project_key(request, key_id)
    key_admin.revoke_key(key, request.user)
    url = reverse("accounts:project-api-keys", args=[request.project.pk])
    return after_action(
        request,
        url,
        PROJECT_PAGE,
        lambda: _project_context(request),
        "api-keys",
        f"Key {key.public_key} revoked: it no longer authenticates",
    )


@require_POST
@project_view(Role.ADMIN)
def project_key_rotate(request: HttpRequest, key_id: str) -> HttpResponse:
    key = _project_key(request, key_id)
    form = RotateForm(request.POST)
    url = reverse("accounts:project-api-keys", args=[request.project.pk])
    context = lambda: _project_context(request)  # noqa: E731
    if not form.is_valid():
        return refused(
            request, url, PROJECT_PAGE, context, "api-keys", "Choose how long the old key keeps working"
        )
    try:
        new, secret = key_admin.rotate_key(key, form.cleaned_data["grace"], request.user)
    except ActionRefused as exc:
        return refused(request, url, PROJECT_PAGE, context, "api-keys", str(exc))
    return render_page(
        request, PROJECT_PAGE, _project_context(request, created=new, secret=secret), "api-keys"
    )


def _org_context(request: HttpRequest, form=None, created=None, secret: str = "") -> dict:
    keys = ApiKey.objects.active().filter(organization=request.organization)
    return {
        "settings_links": organization_links(request),
        "keys": _key_rows(keys),
        "form": form or ApiKeyCreateForm(),
        "created": created,
        "secret": secret,
        "langfuse_host": public_base_url(request),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@organization_view(Role.OWNER)
def organization_keys(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render_page(request, ORG_PAGE, _org_context(request))
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return render_page(request, ORG_PAGE, _org_context(request, form=form), "api-keys")
    key, secret = key_admin.create_key(
        request.user, organization=request.organization, note=form.cleaned_data["note"]
    )
    return render_page(request, ORG_PAGE, _org_context(request, created=key, secret=secret), "api-keys")


@require_POST
@organization_view(Role.OWNER)
def organization_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_object_or_404(ApiKey.objects.active(), pk=key_id, organization=request.organization)
    key_admin.revoke_key(key, request.user)
    url = reverse("accounts:organization-api-keys", args=[request.organization.pk])
    return after_action(
        request, url, ORG_PAGE, lambda: _org_context(request), "api-keys", f"Key {key.public_key} revoked"
    )
