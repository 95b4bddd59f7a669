"""The two tenants the isolation tests attack each other with: complete, disjoint, fully snapshotted."""

from __future__ import annotations

import pytest

from tests.isolation.conftest import NOT_TENANT_DATA, snapshot, tenant_models, tenant_rows

pytestmark = pytest.mark.django_db


def test_every_model_is_in_the_snapshot_or_holds_no_tenant_data(world):
    unknown = [
        m._meta.label
        for m in tenant_models()
        if tenant_rows(m, world.alpha) is None and m._meta.app_label not in NOT_TENANT_DATA
    ]
    assert unknown == [], (
        f"{unknown}: teach tenant_rows() in tests/isolation/conftest.py how to find a tenant's rows, "
        "or list the app in NOT_TENANT_DATA with the reason"
    )


@pytest.mark.parametrize("tag", ["alpha", "bravo"])
def test_each_tenant_has_data_of_every_kind(world, tag):
    tenant = getattr(world, tag)
    counts = {label: len(rows) for label, rows in snapshot(tenant).items()}
    empty = sorted(label for label, n in counts.items() if n == 0)
    # Kinds no tenant writes to by itself: Django's auth groups are not used.
    assert empty == [], f"{tenant.tag} has no rows of {empty}; the attacks would not cover them"


def test_the_tenants_share_no_row(world):
    alpha, bravo = snapshot(world.alpha), snapshot(world.bravo)
    for label in alpha:
        assert not set(alpha[label]) & set(bravo[label]), label


def test_tenant_content_carries_its_markers(world):
    for tenant, other in ((world.alpha, world.bravo), (world.bravo, world.alpha)):
        text = repr(snapshot(tenant))
        assert tenant.secret in text
        assert other.tag not in text
