from __future__ import annotations

import pytest

from langfuse_ui.config import ConfigError
from langfuse_ui.smtp import SmtpServer, parse_smtp_url


def test_an_empty_url_means_the_console_backend():
    assert parse_smtp_url("") is None
    assert parse_smtp_url("  ") is None


def test_starttls_with_credentials():
    assert parse_smtp_url("smtp://mailer:s3cret@smtp.example.com:587/?tls=true") == SmtpServer(
        host="smtp.example.com", port=587, user="mailer", password="s3cret", use_tls=True, use_ssl=False
    )


def test_port_587_implies_starttls_and_percent_escapes_are_decoded():
    server = parse_smtp_url("smtp://apikey%40example.com:p%2Fss@smtp.example.com:587")
    assert (server.user, server.password, server.use_tls, server.use_ssl) == (
        "apikey@example.com",
        "p/ss",
        True,
        False,
    )


def test_smtps_is_tls_from_the_start_on_465_by_default():
    server = parse_smtp_url("smtps://u:p@smtp.example.com")
    assert (server.port, server.use_ssl, server.use_tls) == (465, True, False)


def test_plain_relay_without_credentials():
    server = parse_smtp_url("smtp://relay.internal:25")
    assert (server.host, server.port, server.user, server.use_tls, server.use_ssl) == (
        "relay.internal",
        25,
        "",
        False,
        False,
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://smtp.example.com", "must start with smtp://"),
        ("smtp://:587", "no host name"),
        ("smtp://smtp.example.com:587/?tls=maybe", "not a boolean"),
        ("smtps://smtp.example.com/?tls=true", "not both"),
    ],
)
def test_a_wrong_url_names_the_variable(url, complaint):
    with pytest.raises(ConfigError, match=complaint) as error:
        parse_smtp_url(url)
    assert "SMTP_CONNECTION_URL" in str(error.value)
