"""Public prompt API routes, mounted under /api/public/ (Langfuse's paths)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from prompts import api
from traces.api import converters  # noqa: F401  (registers <anypath:>)
from traces.api.dispatch import methods

prompt_list = methods(GET=api.list_prompts, POST=api.create_prompt)
prompt = methods(GET=api.get_prompt, DELETE=api.delete_prompt)
prompts_v1 = methods(GET=api.get_prompt_v1, POST=api.create_prompt_v1)


@csrf_exempt
def prompt_version(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """PATCH labels of one version; any other method means a prompt whose name ends in /versions/<n>."""
    if request.method == "PATCH":
        return api.update_version(request, name, version)
    return prompt(request, f"{name}/versions/{version}")


urlpatterns = [
    path("v2/prompts", prompt_list, name="prompts"),
    path("v2/prompts/<anypath:name>/versions/<int:version>", prompt_version, name="prompt-version"),
    path("v2/prompts/<anypath:name>", prompt, name="prompt"),
    path("prompts", prompts_v1, name="prompts-v1"),
]
