"""SMTP_CONNECTION_URL (Langfuse's variable) turned into Django's EMAIL_* settings.

smtp://user:pass@host:587/?tls=true   STARTTLS (also the default on port 587)
smtps://user:pass@host:465            TLS from the first byte (also `?ssl=true` or `?secure=true`)
smtp://host:25                        plain, no authentication
User and password are percent-decoded, so `%40` stands for `@`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from langfuse_ui.config import FALSE_WORDS, TRUE_WORDS, ConfigError


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str
    password: str
    use_tls: bool
    use_ssl: bool


def _flag(options: dict[str, str], names: tuple[str, ...], variable: str) -> bool | None:
    for name in names:
        if name in options:
            word = options[name].strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ConfigError(f"{variable}: {name}={options[name]!r} is not a boolean: use true or false")
    return None


def parse_smtp_url(url: str, variable: str = "SMTP_CONNECTION_URL") -> SmtpServer | None:
    """None when the URL is empty (the console backend is used then)."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"{variable} must start with smtp:// or smtps://, e.g. smtp://user:pass@host:587")
    if not parts.hostname:
        raise ConfigError(f"{variable} has no host name, e.g. smtp://user:pass@mail.example.com:587")
    options = {key.lower(): value for key, value in parse_qsl(parts.query, keep_blank_values=True)}
    try:
        explicit_port = parts.port
    except ValueError:
        raise ConfigError(f"{variable} has an invalid port") from None
    use_ssl = _flag(options, ("ssl", "secure"), variable)
    if use_ssl is None:
        use_ssl = parts.scheme == "smtps" or explicit_port == 465
    port = explicit_port or (465 if use_ssl else 587)
    use_tls = _flag(options, ("tls", "starttls"), variable)
    if use_tls is None:
        use_tls = not use_ssl and port == 587
    if use_ssl and use_tls:
        raise ConfigError(
            f"{variable}: choose TLS from the start (smtps://) or STARTTLS (tls=true), not both"
        )
    return SmtpServer(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
    )
