"""Hypothesis profiles of the hostile-input tests.

`ci` (default): few, deterministic examples, so the whole folder stays near a minute.
`long`: HYPOTHESIS_PROFILE=long for a run by hand (docs/reliability.md, "Hostile and broken input").
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "database": None,
    "print_blob": True,
}
settings.register_profile(
    "ci", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 25)), derandomize=True, **_COMMON
)
settings.register_profile(
    "long", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 1000)), **_COMMON
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
