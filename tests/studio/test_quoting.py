"""A user's text quoted back in a studio message reads the same everywhere (artforge.errors.quoted): the
gallery's tags, a training job's settings and data folder, a generate job's fields."""

from __future__ import annotations

from test_jobs import TINY, jobs_studio  # noqa: F401  (a fixture)

LONG = "x" * 50
CUT = f"{'x' * 40!r}... (50 characters)"


def test_a_long_setting_name_of_a_train_job_is_cut_with_its_length(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"name": "q", "data": "art", "steps": 2, "params": {LONG: 1}})
    assert r.status_code == 422
    assert r.json()["detail"].startswith(f"params: {CUT} is not a setting a studio job may change; use one of ")


def test_a_long_data_folder_of_a_train_job_is_cut_with_its_length(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"name": "q", "data": LONG, "steps": 2, "params": TINY})
    assert r.status_code == 404 and r.json()["detail"] == f"data: no folder {CUT} in the studio's data dir"


def test_a_long_field_of_a_generate_job_is_cut_with_its_length_and_no_quotes(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"kind": "generate", "params": {LONG: 1}})
    assert r.status_code == 422
    assert r.json()["detail"] == f"params.{'x' * 40}... (50 characters): Extra inputs are not permitted"
