"""/api/pipelines says, for every registered pipeline, where the studio runs it: read from the app's own
routes (artforge.families names the route), so it can neither point at a missing route nor miss one."""

from __future__ import annotations

import pytest

from artforge import families

# What the studio's pages run today (Create, Explore, Music), and the page whose routes serve each.
RUN_BY_THE_STUDIO = {"generate": "create", "breed": "create", "explore": "explore", "music.sample": "music",
                     "music.interpolate": "music", "music.breed": "music"}


def post_paths(app) -> set[str]:
    return {path for path, ops in app.openapi()["paths"].items() if "post" in ops}


def test_every_pipeline_the_studio_runs_names_its_real_route(studio, owner):
    got = {p["name"]: p for p in owner.get("/api/pipelines").json()}
    posted = post_paths(studio.app)
    served = {name: p["studio_endpoint"] for name, p in got.items() if p["studio_endpoint"] is not None}
    assert set(served.values()) <= posted
    assert {name: served.get(name) for name in RUN_BY_THE_STUDIO} == {
        "generate": "/api/generate", "breed": "/api/breed", "explore": "/api/explore",
        "music.sample": "/api/music/sample", "music.interpolate": "/api/music/interpolate",
        "music.breed": "/api/music/breed"}


def test_a_pipeline_has_an_endpoint_exactly_when_the_app_serves_its_route(studio, owner):
    got = {p["name"]: p["studio_endpoint"] for p in owner.get("/api/pipelines").json()}
    posted = post_paths(studio.app)
    assert got == {p.name: p.route if p.route in posted else None for p in families.pipeline_specs()}


@pytest.mark.parametrize("name", sorted(RUN_BY_THE_STUDIO))
def test_each_studio_endpoint_answers_its_pipelines_body(studio, owner, name):
    """A real request: the route exists and takes that body (an unknown field is a 422, never a 404/405)."""
    endpoint = next(p for p in owner.get("/api/pipelines").json() if p["name"] == name)["studio_endpoint"]
    r = owner.post(endpoint, json={"not_a_param": 1})
    assert r.status_code == 422 and "not_a_param" in r.text


def test_each_pipeline_says_its_family_and_the_page_that_runs_it(owner):
    got = {p["name"]: p for p in owner.get("/api/pipelines").json()}
    assert {n: got[n]["studio_page"] for n in RUN_BY_THE_STUDIO} == RUN_BY_THE_STUDIO
    assert {n: p["family"] for n, p in got.items()} == {p.name: p.family for p in families.pipeline_specs()}
    assert got["stylize.optimize"]["studio_endpoint"] is None and got["stylize.optimize"]["studio_page"] is None


def test_a_newly_registered_familys_pipeline_is_listed(owner):
    from artforge.pipelines import Pipeline
    try:
        from artforge.pipelines.params import Spec
    except ImportError:                          # pipelines declared by class attributes alone
        Spec = None

    class Toy(Pipeline):
        name, help, params = "toy.paint", "a toy", ()
        if Spec is not None:
            spec = Spec(name, help)

    fam = families.Family("toy", "a toy", experiment=None, train=None, check=None,
                          pipelines=(families.PipelineSpec("toy.paint", Toy, studio="/api/generate"),))
    with families.registered(fam):
        got = {p["name"]: p for p in owner.get("/api/pipelines").json()}
    assert {k: got["toy.paint"][k] for k in ("family", "studio_endpoint", "studio_page")} == {
        "family": "toy", "studio_endpoint": "/api/generate", "studio_page": "create"}
