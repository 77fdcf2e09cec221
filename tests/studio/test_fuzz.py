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

_DATA = Path(tempfile.mkdtemp(prefix="artforge-fuzz-"))
_STUDIO = Studio(make_settings(_DATA / "studio", max_images_per_request=4))
_owner = _STUDIO.owner()          # a client that stays open keeps the app started (lifespan) until close()
_TOKEN = _owner.post("/api/tokens", json={"name": "fuzz"}).json()["token"]
# something to find: two pictures and their child, so ids in paths sometimes exist
_ids = [a["id"] for a in _owner.post("/api/generate", json={"n": 2, "seed": 1}).json()["artworks"]]
_owner.post("/api/breed", json={"parents": _ids, "n": 1})

schema = (schemathesis.openapi.from_asgi("/openapi.json", _STUDIO.app)
          .exclude(method="POST", path="/api/jobs")
          .exclude(method="DELETE", path_regex=r"^/api/tokens/"))


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _STUDIO.close()
    shutil.rmtree(_DATA, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_no_request_makes_the_server_fail(case):
    response = case.call(headers={"Authorization": f"Bearer {_TOKEN}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
