"""Two writers creating versions of one prompt at the same moment get consecutive versions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from prompts.models import Prompt
from prompts.versions import create_version
from tests.factories import make_project


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_consecutive_versions():
    project = make_project()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def create(n: int) -> None:
        try:
            barrier.wait()
            create_version(project, "greeting", "text", f"Hello {n}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    versions = sorted(
        Prompt.objects.filter(project=project, name="greeting").values_list("version", flat=True)
    )
    assert versions == [1, 2, 3, 4]
    assert Prompt.objects.get(project=project, name="greeting", labels__contains=["latest"]).version == 4
