"""Per-project LLM connections: OpenAI-compatible endpoints the playground calls.

Keys are stored only as Fernet tokens. The Fernet key comes from ENCRYPTION_KEY when set, else it
is derived from SECRET_KEY, so an operator who rotates either must re-enter the connection keys.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import Project
from traces.models import LlmConnection


def _fernet() -> Fernet:
    secret = settings.ENCRYPTION_KEY or settings.SECRET_KEY
    digest = hashlib.sha256(f"langfuse-ui llm connections:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_key(api_key: str) -> str:
    return _fernet().encrypt(api_key.encode()).decode() if api_key else ""


def decrypt_key(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConnectionFailed(
            "The stored key cannot be decrypted (ENCRYPTION_KEY or SECRET_KEY changed): "
            "delete the connection and add it again"
        ) from None


# Cloud metadata services live on link-local addresses and hand out the machine's credentials; no
# LLM server does, so a connection may not point there. Loopback and private addresses stay allowed:
# local LLM servers (Ollama, vLLM, a LiteLLM proxy) live there, and only admins add connections.
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


def forbidden_address(host: str) -> bool:
    """Is this host, or any address it resolves to, link-local (cloud metadata)?"""
    if host.lower().rstrip(".") in METADATA_HOSTS:
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False  # unresolvable: the call will fail with its own message
    return any(ipaddress.ip_address(address.split("%")[0]).is_link_local for address in addresses)


def validate_base_url(url: str) -> str:
    """An http(s) URL with a host, not a cloud metadata address, without a trailing slash."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Use an http:// or https:// URL, for example https://litellm.example.com/v1")
    if forbidden_address(parts.hostname):
        raise ValidationError(
            f"{parts.hostname} is a link-local (cloud metadata) address, not an LLM server: use the URL of "
            "your OpenAI-compatible endpoint"
        )
    return url.rstrip("/")


def mask(api_key: str) -> str:
    return f"…{api_key[-4:]}" if len(api_key) > 8 else "…"


def create_connection(
    project: Project, *, name: str, base_url: str, api_key: str, default_model: str = ""
) -> LlmConnection:
    return LlmConnection.objects.create(
        project=project,
        name=name,
        base_url=validate_base_url(base_url),
        encrypted_api_key=encrypt_key(api_key),
        key_hint=mask(api_key) if api_key else "",
        default_model=default_model,
    )


def delete_connection(connection: LlmConnection) -> None:
    connection.delete()


class ConnectionFailed(Exception):
    """The endpoint could not be called or answered with an error; the message says which."""


@dataclass
class Completion:
    content: str
    model: str
    usage: dict[str, Any]
    raw: dict[str, Any]


def chat_completion(connection: LlmConnection, payload: dict[str, Any]) -> Completion:
    """POST {base_url}/chat/completions and return the first choice's text."""
    headers = {"Content-Type": "application/json"}
    api_key = decrypt_key(connection.encrypted_api_key)
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    url = f"{connection.base_url}/chat/completions"
    timeout = settings.PLAYGROUND_TIMEOUT_SECONDS
    try:
        if forbidden_address(urlsplit(url).hostname or ""):  # DNS may have changed since it was saved
            raise ConnectionFailed(f"{url} resolves to a link-local (cloud metadata) address; refused")
        # No redirects: the connection's URL is the only place the key and the prompt may go.
        response = requests.post(url, json=payload, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise ConnectionFailed(
            f"{url} did not answer within {timeout} s: try again, pick a faster model, or raise "
            "LANGFUSE_PLAYGROUND_TIMEOUT_SECONDS"
        ) from None
    except requests.RequestException as exc:
        raise ConnectionFailed(f"{url} could not be reached ({_reason(exc)}): {UNREACHABLE_HINT}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        detail = _error_message(body) or response.text[:500]
        hint = STATUS_HINTS.get(response.status_code, "")
        raise ConnectionFailed(f"{url} answered {response.status_code}: {detail}{hint}")
    if not isinstance(body, dict) or not body.get("choices"):
        raise ConnectionFailed(f"{url} answered without choices: {response.text[:500]}")
    message = (body["choices"][0] or {}).get("message") or {}
    content = message.get("content")
    if not isinstance(content, str):
        content = "" if content is None else str(content)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return Completion(
        content=content, model=str(body.get("model") or payload.get("model") or ""), usage=usage, raw=body
    )


UNREACHABLE_HINT = (
    "check the connection's base URL and that the endpoint is running and reachable from this server"
)
STATUS_HINTS = {
    401: ". The API key was refused: an admin enters it again under Settings → LLM connections",
    403: ". The API key may not use this model or endpoint",
    404: ". Check the model name and the base URL (the server POSTs to <base URL>/chat/completions)",
    429: ". The endpoint is rate limiting: wait a moment and run again",
}


def _reason(exc: requests.RequestException) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text or "Temporary failure in name" in text:
        return "host name not found"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    return f"{exc.__class__.__name__}: {text[:300]}"


def _error_message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or body.get("message") or body.get("detail") or "")
