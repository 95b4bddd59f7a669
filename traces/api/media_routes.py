"""Public API media routes: upload URLs, upload status, download URLs; and the signed local URLs.

POST /media, GET|PATCH /media/{id} use project key Basic auth. The local upload and download
routes need no Authorization header: their signed token is the credential, as with S3
presigned URLs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import api_error, api_route
from traces import media as media_domain
from traces.media import MediaError
from traces.storage import DOWNLOAD_SALT, LocalFolderStorage, storage_for

CHUNK_SIZE = 1024 * 1024


def _error(exc: MediaError) -> JsonResponse:
    names = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 413: "Payload Too Large"}
    return api_error(str(exc), exc.status, names.get(exc.status))


def _json_body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except RecursionError:
        raise MediaError("Request body is JSON nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MediaError(f"Request body is not valid JSON: {exc}") from None


@require_POST
@api_route()
def media_upload_url(request: HttpRequest) -> JsonResponse:
    """POST /api/public/media: {mediaId, uploadUrl}; uploadUrl is null when already uploaded."""
    try:
        upload = media_domain.parse_upload_request(_json_body(request))
    except MediaError as exc:
        return _error(exc)
    media, needs_upload = media_domain.request_upload(request.project.id, upload)
    upload_url = storage_for(media).upload_url(request, media) if needs_upload else None
    return JsonResponse({"mediaId": media.id, "uploadUrl": upload_url})


@require_http_methods(["GET", "HEAD", "PATCH"])
@api_route()
def media_item(request: HttpRequest, media_id: str) -> HttpResponse:
    """GET /api/public/media/{id}: a download URL; PATCH: the client's upload status (204)."""
    if "\x00" in media_id:  # no media id holds one, and PostgreSQL text cannot
        return _error(media_domain.MediaError(f"Media {media_id!r:.60} not found in this project", 404))
    try:
        if request.method == "PATCH":
            status = media_domain.parse_upload_status(_json_body(request))
            media_domain.record_upload_status(request.project.id, media_id, status)
            return HttpResponse(status=204)
        media = media_domain.get_uploaded_media(request.project.id, media_id)
    except MediaError as exc:
        return _error(exc)
    url, expiry = storage_for(media).download_url(request, media)
    return JsonResponse(
        {
            "mediaId": media.id,
            "contentType": media.content_type,
            "contentLength": media.content_length,
            "uploadedAt": media.uploaded_at.isoformat().replace("+00:00", "Z"),
            "url": url,
            "urlExpiry": expiry.isoformat().replace("+00:00", "Z"),
        }
    )


def _declared_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH")
    return int(raw) if raw and raw.isdigit() else None


def _chunks(request: HttpRequest):
    while chunk := request.read(CHUNK_SIZE):
        yield chunk


@csrf_exempt
@require_http_methods(["PUT"])
def media_upload(request: HttpRequest, token: str) -> HttpResponse:
    """PUT /api/public/media-upload/<token>: the bytes of a media file, checked against its hash."""
    try:
        media_domain.receive_upload(
            token,
            request.headers.get("Content-Type") or "",
            _declared_length(request),
            request.headers.get("x-amz-checksum-sha256"),
            _chunks(request),
        )
    except MediaError as exc:
        return _error(exc)
    return HttpResponse(status=200)


async def _async_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := await asyncio.to_thread(source.read, CHUNK_SIZE):
            yield chunk


@require_safe
def media_download(request: HttpRequest, token: str) -> HttpResponse:
    """GET /api/public/media-download/<token>: the stored bytes, with the media's content type."""
    try:
        media = media_domain.media_for_token(token, DOWNLOAD_SALT, settings.MEDIA_DOWNLOAD_URL_EXPIRY_SECONDS)
    except MediaError as exc:
        return _error(exc)
    storage = storage_for(media)
    path = storage.file_for(media) if isinstance(storage, LocalFolderStorage) else None
    if path is None or not media_domain.is_uploaded(media) or not path.is_file():
        return api_error("Media not found: it has not been uploaded to this server", 404, "Not Found")
    if isinstance(request, ASGIRequest):  # stream without loading the file into memory
        response = StreamingHttpResponse(_async_chunks(path), content_type=media.content_type)
    else:
        response = FileResponse(path.open("rb"), content_type=media.content_type)
    response["Content-Length"] = str(path.stat().st_size)
    # Served from this origin: never let an uploaded HTML or SVG file run scripts here.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    response["Cache-Control"] = "private, max-age=3600"
    return response
