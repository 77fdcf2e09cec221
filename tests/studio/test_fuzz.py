"""The REST API fuzzed from its own OpenAPI schema (schemathesis): whatever a client sends, never a 5xx.

Every operation in /openapi.json gets generated requests, valid and invalid by the schema, sent as the
owner with an API token (so nothing is refused for want of a session). Two operations are left out:
POST /api/jobs, which would start real training processes, and deleting API tokens, which would revoke
the fuzzer's own; both have their unhappy paths in test_jobs.py and test_routes.py.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from conftest import Studio, make_settings

@pytest.fixture(scope="module")
def studio_and_token():
    """A studio with something to find (two pictures and their child, so ids in paths sometimes exist) and
    the owner's API token; built when the tests run, never at import (a deselected module costs nothing)."""
    data = Path(tempfile.mkdtemp(prefix="artforge-fuzz-"))
    studio = Studio(make_settings(data / "studio", max_images_per_request=4))
    owner = studio.owner()          # a client that stays open keeps the app started (lifespan) until close()
    token = owner.post("/api/tokens", json={"name": "fuzz"}).json()["token"]
    ids = [a["id"] for a in owner.post("/api/generate", json={"n": 2, "seed": 1}).json()["artworks"]]
    owner.post("/api/breed", json={"parents": ids, "n": 1})
    yield studio, token
    studio.close()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def api_schema(studio_and_token):
    studio, _ = studio_and_token
    return (schemathesis.openapi.from_asgi("/openapi.json", studio.app)
            .exclude(method="POST", path="/api/jobs")
            .exclude(method="DELETE", path_regex=r"^/api/tokens/"))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_no_request_makes_the_server_fail(case, studio_and_token):
    response = case.call(headers={"Authorization": f"Bearer {studio_and_token[1]}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
