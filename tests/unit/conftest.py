"""Hypothesis profiles for the unit tests.

``default``: 200 examples per property (fast enough for every run). ``slow``: 10,000 examples;
select it with ``HYPOTHESIS_PROFILE=slow``. Examples are stored under the repository's
``.hypothesis/`` (git-ignored), wherever pytest is started from.
"""

from __future__ import annotations

import os
import pathlib

from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

_DATABASE = DirectoryBasedExampleDatabase(
    pathlib.Path(__file__).resolve().parents[2] / ".hypothesis" / "examples"
)

settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    database=_DATABASE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "slow",
    max_examples=10_000,
    deadline=None,
    database=_DATABASE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
