"""Settings > Media: how long the media bucket keeps this project's files (an S3 lifecycle rule).

The rule expires objects under the project's media prefix N days after upload; the bucket does
the deleting, so it also works for files nobody deletes here. The bucket holds one lifecycle
configuration, so changes are read-modify-write under a PostgreSQL advisory lock.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts import audit
from accounts.access import project_view
from accounts.models import Role
from accounts.settings_pages import project_links
from langfuse_ui.htmx import render_page
from traces.storage import LifecycleUnavailable, media_expiry_days, media_prefix, set_media_expiry_days

TEMPLATE = "settings/media.html"
MEDIA_ROLE = Role.ADMIN
LIFECYCLE_LOCK = 7_201_004  # pg_advisory_xact_lock key of the media bucket's lifecycle configuration


class MediaExpiryForm(forms.Form):
    days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=36_500,
        label="Delete media files after (days)",
        help_text="Empty or 0 keeps media files until their traces are deleted.",
    )


def _s3_message(exc: Exception) -> str:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return (
        f"The media bucket refused the request ({code or exc.__class__.__name__}: {exc}); check "
        "LANGFUSE_S3_MEDIA_UPLOAD_BUCKET, LANGFUSE_S3_MEDIA_UPLOAD_ENDPOINT and its credentials"
    )


def _context(request: HttpRequest, form: MediaExpiryForm | None = None, error: str = "") -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    days, unavailable = None, ""
    try:
        days = media_expiry_days(request.project.pk)
    except LifecycleUnavailable as exc:
        unavailable = str(exc)
    except (BotoCoreError, ClientError) as exc:
        error = error or _s3_message(exc)
    return {
        "settings_links": project_links(request),
        "form": form or MediaExpiryForm(initial={"days": days}),
        "days": days,
        "unavailable": unavailable,
        "error": error,
        "prefix": media_prefix(request.project.pk),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(MEDIA_ROLE)
def media_settings(request: HttpRequest) -> HttpResponse:
    from botocore.exceptions import BotoCoreError, ClientError

    if request.method != "POST":
        return render_page(request, TEMPLATE, _context(request))
    form = MediaExpiryForm(request.POST)
    error, status = "", 400
    if form.is_valid():
        days = form.cleaned_data["days"] or None
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIFECYCLE_LOCK])
                before = media_expiry_days(request.project.pk)
                set_media_expiry_days(request.project.pk, days)
                audit.record(
                    action="update",
                    resource_type="media-lifecycle",
                    resource_id=request.project.pk,
                    actor=request.user,
                    project=request.project,
                    before={"expiryDays": before},
                    after={"expiryDays": days},
                )
        except LifecycleUnavailable as exc:
            error, status = str(exc), 400
        except (BotoCoreError, ClientError) as exc:
            error, status = _s3_message(exc), 502
    if error or not form.is_valid():
        response = render_page(request, TEMPLATE, _context(request, form, error), "media-expiry")
        response.status_code = status if error else 400
        return response
    days = form.cleaned_data["days"]
    messages.success(
        request, f"Media files expire {days} days after upload" if days else "Media files are kept"
    )
    if request.htmx:
        return render_page(request, TEMPLATE, _context(request), "media-expiry")
    return redirect(reverse("traces:media-settings", args=[request.project.pk]))
