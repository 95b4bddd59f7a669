from __future__ import annotations

from django.urls import include, path, re_path

from langfuse_ui import api as core_api

public_api = [
    path("health", core_api.health, name="health"),
    path("ready", core_api.ready, name="ready"),
    path("", include("accounts.api_urls")),
    path("", include("traces.api.urls")),
    path("", include("prompts.api_urls")),
    re_path(r"", core_api.not_found, name="not-found"),  # last: unmatched API URLs answer JSON 404
]

urlpatterns = [
    path("api/public/", include((public_api, "api"))),
    path("auth/oidc/", include("mozilla_django_oidc.urls")),  # SSO (accounts/oidc.py); 404 when off
    path("auth/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("traces.urls")),
    path("", include("prompts.urls")),
    path("", include("traces.budgets.urls")),
]
