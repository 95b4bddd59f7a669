"""The embedded cluster classifies non-ASCII letters, so trigram search indexes every language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(not settings.EMBEDDED_DATABASE, reason="an external server keeps its own locale")
@pytest.mark.parametrize("text", ["привет мир", "你好世界", "مرحبا بالعالم", "hello world"])
def test_trigrams_exist_for_every_script(text):
    with connection.cursor() as cursor:
        cursor.execute("SELECT array_length(show_trgm(%s), 1)", [text])
        assert cursor.fetchone()[0] >= 3


def test_non_english_search_finds_the_trace(team):
    from traces.models import Trace

    Trace.objects.bulk_create(
        [Trace(project=team.project, id=f"t{i}", input={"q": f"filler {i}"}) for i in range(20)]
        + [Trace(project=team.project, id="ru", input={"q": "где мой заказ"})]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM traces WHERE project_id = %s AND input::text ILIKE %s",
            [team.project.id, "%ЗАКАЗ%"],
        )
        assert [row[0] for row in cursor.fetchall()] == ["ru"]
