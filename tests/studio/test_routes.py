"""Every REST endpoint, happy and unhappy: models, pipelines, generate, gallery, download, lineage, upload."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image, PngImagePlugin

from artforge.pipelines import GeneratePipeline, PIPELINES
from artforge.provenance.recipe import RECIPE_KEY


def png(size=(16, 16), text: dict | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def make_run(studio, name="myrun"):
    """A run folder under DATA_DIR/runs that holds the starter's weights (a stand-in for a trained run)."""
    import shutil
    from artforge.models.pretrained import starter_dir

    run = studio.settings.runs_dir / name
    run.mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(starter_dir() / f, run / f)
    (run / "samples").mkdir()
    Image.new("RGB", (8, 8)).save(run / "samples" / "latest.png")
    (run / "secret.txt").write_text("not for the web")
    return run


def test_health_index_and_openapi(studio):
    c = studio.client()
    assert c.get("/api/health").json()["ok"] is True
    assert "artforge studio" in c.get("/").text
    schema = c.get("/openapi.json").json()
    assert "/api/generate" in schema["paths"] and c.get("/docs").status_code == 200
    body = schema["components"]["schemas"]["GenerateBody"]["properties"]
    assert body["truncation"]["maximum"] == 2.0 and body["no_copies"]["default"] is True
    assert "batch_size" not in body


def test_models_and_their_files(studio, owner):
    make_run(studio)
    (studio.settings.runs_dir / "untrained").mkdir()
    models = {m["name"]: m for m in owner.get("/api/models").json()}
    assert models["starter"]["ready"] and models["starter"]["copy_check"] and models["starter"]["family"] == "gan"
    assert models["myrun"]["ready"] and models["myrun"]["files"] == ["samples/latest.png"]
    assert models["untrained"]["ready"] is False
    r = owner.get("/api/models/myrun/files/samples/latest.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert owner.get("/api/models/myrun/files/secret.txt").status_code == 404
    assert owner.get("/api/models/myrun/files/samples/none.png").status_code == 404
    assert owner.get("/api/models/nothing").status_code == 404


def test_paths_from_requests_stay_inside_the_data_dir(studio, owner, tmp_path):
    make_run(studio)
    outside = tmp_path / "outside"
    outside.mkdir()
    Image.new("RGB", (8, 8)).save(outside / "x.png")
    (studio.settings.runs_dir / "link").symlink_to(outside)
    (studio.settings.runs_dir / "myrun" / "escape.png").symlink_to(outside / "x.png")
    for path in ("/api/models/myrun/files/..%2F..%2F..%2Foutside%2Fx.png", "/api/models/myrun/files/escape.png",
                 "/api/models/myrun/files/%2Fetc%2Fpasswd", "/api/models/link/files/x.png",
                 "/api/models/..%2F..%2Foutside"):
        r = owner.get(path)
        assert r.status_code in (400, 404), (path, r.status_code)
        assert r.status_code != 200
    r = owner.get("/api/models/myrun/files/..%2F..%2F..%2Foutside%2Fx.png")
    assert r.status_code == 400 and "outside" in r.json()["detail"]
    r = owner.post("/api/generate", json={"model": "../../outside", "n": 1})
    assert r.status_code == 400 and "starter" in r.json()["detail"]
    assert owner.post("/api/generate", json={"model": "link", "n": 1}).status_code == 400


def test_pipelines_list_their_declared_params(owner):
    got = {p["name"]: p for p in owner.get("/api/pipelines").json()}
    assert set(got) == set(PIPELINES)
    assert got["generate"] == {**GeneratePipeline.schema(), "family": "gan", "studio_endpoint": "/api/generate",
                               "studio_page": "create"}
    seed = next(p for p in got["generate"]["params"] if p["name"] == "seed")
    assert seed["type"] == "int" and seed["min"] == 0


def test_generate_records_artworks_with_recipes(studio, owner):
    r = owner.post("/api/generate", json={"n": 3, "seed": 40, "truncation": 0.7})
    assert r.status_code == 201, r.text
    arts = r.json()["artworks"]
    assert [a["seed"] for a in arts] == [40, 41, 42] and r.json()["still_flagged"] == 0
    recipe = arts[0]["recipe"]
    assert recipe["pipeline"] == "generate" and recipe["params"]["truncation"] == 0.7
    assert recipe["params"]["no_copies"] is True and "copy_check" in recipe["params"]
    img = owner.get(f"/api/artworks/{arts[0]['id']}/image")
    assert img.status_code == 200 and Image.open(io.BytesIO(img.content)).size == (64, 64)
    # The same image as the pipeline makes on its own (what the CLI writes).
    alone = GeneratePipeline(__import__("artforge.pipelines", fromlist=["x"]).load_model("starter"))(
        n=3, seed=40, truncation=0.7, batch_size=3)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(img.content))), np.asarray(alone.images[0]))
    shard = studio.settings.objects_dir / arts[0]["sha256"][:2] / f"{arts[0]['sha256'][2:]}.png"
    assert shard.is_file()


def test_generate_bad_input_is_4xx_with_a_message(owner):
    cases = [({"n": 0}, "n: 0 is out of range"), ({"truncation": 9}, "truncation: 9.0 is out of range"),
             ({"seed": -1}, "seed: -1 is out of range"), ({"n": 65}, "at most 64 images"),
             ({"n": "many"}, "n"), ({"n": 1.5}, "n"), ({"batch_size": 4}, "batch_size"),
             ({"colour": "red"}, "colour"), ({"model": "nothing"}, "not found")]
    for body, message in cases:
        r = owner.post("/api/generate", json=body)
        assert r.status_code in (404, 422) and message in r.json()["detail"], (body, r.status_code, r.text)
    for raw in (b"{not json", b"[1, 2]", b"null", b'{"n": 1e400}', b'{"truncation": NaN}',
                b'{"truncation": Infinity}', b"\xff\xfe"):
        r = owner.post("/api/generate", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.text)


def test_gallery_search_filters(studio, owner, editor):
    owner.post("/api/generate", json={"n": 2, "seed": 10})
    eds = editor.post("/api/generate", json={"n": 1, "seed": 77}).json()["artworks"]
    owner.post(f"/api/artworks/{eds[0]['id']}/tags", json={"tags": ["sunset", "blue"]})

    def ids(**params):
        r = owner.get("/api/artworks", params=params)
        assert r.status_code == 200, r.text
        return sorted(a["seed"] for a in r.json()["items"])

    assert ids() == [10, 11, 77]
    assert ids(author="eddie") == [77] and ids(author="owner") == [10, 11]
    assert ids(seed=11) == [11] and ids(tag="sunset") == [77] and ids(q="suns") == [77]
    assert ids(model="starter") == [10, 11, 77] and ids(model="other") == []
    assert ids(since="2000-01-01") == [10, 11, 77] and ids(until="2000-01-01") == []
    assert ids(q="%") == [] and ids(limit=1) in ([77], [11], [10])
    assert owner.get("/api/artworks", params={"since": "yesterday"}).status_code == 422
    assert owner.get("/api/artworks", params={"limit": 0}).status_code == 422
    assert owner.get("/api/artworks", params={"seed": "x"}).status_code == 422
    assert owner.get("/api/tags").json() == [{"tag": "blue", "count": 1}, {"tag": "sunset", "count": 1}]


def test_favourite_tags_delete(studio, owner):
    art = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]
    aid = art["id"]
    assert owner.put(f"/api/artworks/{aid}/favourite", json={"favourite": True}).json()["favourite"] is True
    assert owner.get("/api/artworks", params={"favourite": True}).json()["total"] == 1
    assert owner.put(f"/api/artworks/{aid}/favourite", json={"favourite": "maybe"}).status_code == 422
    assert owner.post(f"/api/artworks/{aid}/tags", json={"tags": ["a", "b"]}).json()["tags"] == ["a", "b"]
    assert owner.post(f"/api/artworks/{aid}/tags", json={"tags": ["a,b"]}).status_code == 422
    assert owner.post(f"/api/artworks/{aid}/tags", json={"tags": []}).status_code == 422
    assert owner.delete(f"/api/artworks/{aid}/tags/a").json()["tags"] == ["b"]
    assert owner.delete(f"/api/artworks/{aid}/tags/zzz").status_code == 404
    path = studio.settings.objects_dir / art["sha256"][:2] / f"{art['sha256'][2:]}.png"
    assert owner.delete(f"/api/artworks/{aid}").status_code == 200
    assert not path.exists()
    for method, p in (("GET", f"/api/artworks/{aid}"), ("DELETE", f"/api/artworks/{aid}"),
                      ("GET", f"/api/artworks/{aid}/image"), ("GET", f"/api/artworks/{aid}/lineage"),
                      ("PUT", f"/api/artworks/{aid}/favourite")):
        assert owner.request(method, p, json={"favourite": True}).status_code == 404, p
    assert owner.get("/api/artworks/abc").status_code == 422
    other = owner.post("/api/generate", json={"n": 1, "seed": 999}).json()["artworks"][0]
    (studio.settings.objects_dir / other["sha256"][:2] / f"{other['sha256'][2:]}.png").unlink()
    r = owner.get(f"/api/artworks/{other['id']}/download")      # a file lost from the data dir: 404, not 500
    assert r.status_code == 404 and "missing" in r.json()["detail"]


def test_download_keeps_redacts_or_strips_the_recipe(owner):
    aid = owner.post("/api/generate", json={"n": 1, "seed": 9}).json()["artworks"][0]["id"]

    def recipe_of(**params):
        r = owner.get(f"/api/artworks/{aid}/download", params=params)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
        assert f"artwork-{aid}.png" in r.headers["content-disposition"]
        text = Image.open(io.BytesIO(r.content)).text.get(RECIPE_KEY)
        return json.loads(text) if text else None

    kept = recipe_of()
    assert kept["params"]["seed"] == 9 and "path" in kept["model"]
    red = recipe_of(recipe="redact", fields="model.path,created,params.seed")
    assert "path" not in red["model"] and "created" not in red and "seed" not in red["params"]
    assert red["redacted"] == ["created", "model.path", "params.seed"]
    assert recipe_of(recipe="strip") is None
    r = owner.get(f"/api/artworks/{aid}/download", params={"recipe": "redact", "fields": "no.such"})
    assert r.status_code == 422 and "no field 'no.such'" in r.json()["detail"]
    assert owner.get(f"/api/artworks/{aid}/download", params={"recipe": "redact"}).status_code == 422
    assert owner.get(f"/api/artworks/{aid}/download", params={"recipe": "shred"}).status_code == 422


def test_lineage_of_an_artwork(studio, owner):
    ids = [a["id"] for a in owner.post("/api/generate", json={"n": 3}).json()["artworks"]]
    with studio.app.state.studio.store.tx() as c:     # (breeding will record these; here by hand)
        c.executemany("INSERT INTO lineage (child, parent) VALUES (?, ?)", [(ids[2], ids[0]), (ids[2], ids[1])])
    tree = owner.get(f"/api/artworks/{ids[2]}/lineage").json()
    assert tree["parents"] == ids[:2] and tree["children"] == [] and len(tree["nodes"]) == 3
    assert sorted(tree["edges"]) == [[ids[2], ids[0]], [ids[2], ids[1]]]
    assert owner.get(f"/api/artworks/{ids[0]}/lineage").json()["children"] == [ids[2]]
    assert owner.get(f"/api/artworks/{ids[0]}/lineage", params={"depth": 0}).status_code == 422


def test_upload_keeps_a_recipe_and_drops_other_metadata(owner):
    recipe = {"pipeline": "generate", "params": {"seed": 3, "image_seed": 3}, "model": {"name": "elsewhere"}}
    r = owner.post("/api/artworks/upload",
                   files={"file": ("mine.png", png(text={RECIPE_KEY: json.dumps(recipe), "Comment": "gps"}))})
    assert r.status_code == 201, r.text
    art = r.json()
    assert art["recipe"]["claimed"] == recipe
    stored = Image.open(io.BytesIO(owner.get(f"/api/artworks/{art['id']}/image").content))
    assert "Comment" not in stored.text and RECIPE_KEY not in stored.text
    plain = owner.post("/api/artworks/upload", files={"file": ("../../evil.png", png())}).json()
    assert plain["pipeline"] == "upload" and plain["recipe"]["params"]["filename"] == "../../evil.png"


def test_upload_limits(studio, owner):
    r = owner.post("/api/artworks/upload", files={"file": ("x.png", b"not an image")})
    assert r.status_code == 422 and r.json()["detail"].startswith("file:")
    huge = png(size=(9000, 6000))                       # 54 Mpx > the 50 Mpx limit, a small file
    r = owner.post("/api/artworks/upload", files={"file": ("bomb.png", huge)})
    assert r.status_code == 422 and "pixels" in r.json()["detail"]
    big = b"\x89PNG" + bytes(studio.settings.max_upload_bytes + 100_000)
    r = owner.post("/api/artworks/upload", files={"file": ("big.png", big)})
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert owner.post("/api/artworks/upload").status_code == 422     # no file at all
    assert not any(studio.settings.tmp_dir.iterdir())


def test_a_deleted_artworks_id_is_never_given_to_a_new_one(owner):
    first = owner.post("/api/generate", json={"n": 1, "seed": 1}).json()["artworks"][0]
    assert owner.delete(f"/api/artworks/{first['id']}").status_code == 200
    second = owner.post("/api/generate", json={"n": 1, "seed": 2}).json()["artworks"][0]
    assert second["id"] == first["id"] + 1


def test_images_are_cached_forever_only_at_their_content_keyed_url(owner):
    art = owner.post("/api/generate", json={"n": 1, "seed": 1}).json()["artworks"][0]
    assert art["image_url"] == f"/api/artworks/{art['id']}/image?v={art['sha256']}"
    keyed = owner.get(art["image_url"])
    assert keyed.status_code == 200 and keyed.headers["cache-control"] == "private, max-age=31536000, immutable"
    plain = owner.get(f"/api/artworks/{art['id']}/image")
    assert plain.content == keyed.content and plain.headers["cache-control"] == "private, no-cache"
    assert plain.headers["etag"] == f'"{art["sha256"]}"'
    again = owner.get(f"/api/artworks/{art['id']}/image", headers={"If-None-Match": f'"{art["sha256"]}"'})
    assert again.status_code == 304 and again.content == b""
    stale = owner.get(f"/api/artworks/{art['id']}/image?v={'0' * 64}")    # an old picture's URL
    assert stale.status_code == 200 and stale.headers["cache-control"] == "private, no-cache"


def test_editors_change_only_their_own_artworks(owner, editor):
    theirs = owner.post("/api/generate", json={"n": 1, "seed": 1}).json()["artworks"][0]["id"]
    owner.post(f"/api/artworks/{theirs}/tags", json={"tags": ["sky"]})
    mine = editor.post("/api/generate", json={"n": 1, "seed": 2}).json()["artworks"][0]["id"]
    r = editor.post(f"/api/artworks/{theirs}/tags", json={"tags": ["mine"]})
    assert r.status_code == 403 and r.json()["detail"] == f"artwork {theirs} is owner's; only they or an owner can change it"
    assert editor.delete(f"/api/artworks/{theirs}/tags/sky").status_code == 403
    assert owner.get(f"/api/artworks/{theirs}").json()["tags"] == ["sky"]
    assert editor.post(f"/api/artworks/{mine}/tags", json={"tags": ["mine"]}).json()["tags"] == ["mine"]
    assert owner.delete(f"/api/artworks/{mine}/tags/mine").json()["tags"] == []     # owners change anything


def test_favourites_are_each_persons_own(owner, editor):
    aid = owner.post("/api/generate", json={"n": 1, "seed": 1}).json()["artworks"][0]["id"]
    assert owner.put(f"/api/artworks/{aid}/favourite", json={"favourite": True}).json()["favourite"] is True
    assert editor.get(f"/api/artworks/{aid}").json()["favourite"] is False
    assert editor.get("/api/artworks", params={"favourite": True}).json()["total"] == 0
    assert editor.put(f"/api/artworks/{aid}/favourite", json={"favourite": True}).json()["favourite"] is True
    assert editor.put(f"/api/artworks/{aid}/favourite", json={"favourite": False}).json()["favourite"] is False
    assert owner.get(f"/api/artworks/{aid}").json()["favourite"] is True
    assert [a["id"] for a in owner.get("/api/artworks", params={"favourite": True}).json()["items"]] == [aid]
    assert owner.get("/api/artworks", params={"favourite": False}).json()["total"] == 0


def test_a_tag_with_a_slash_can_be_removed(owner):
    aid = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]["id"]
    assert owner.post(f"/api/artworks/{aid}/tags", json={"tags": ["a/b", "c"]}).json()["tags"] == ["a/b", "c"]
    r = owner.delete(f"/api/artworks/{aid}/tags/a%2Fb")
    assert r.status_code == 200 and r.json()["tags"] == ["c"], r.text


def test_a_huge_bad_tag_is_not_echoed_back(owner):
    aid = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]["id"]
    r = owner.post(f"/api/artworks/{aid}/tags", json={"tags": ["x" * (5 << 20)]})
    assert r.status_code == 422 and r.json()["detail"] == (
        f"tags: {'x' * 40!r}... ({5 << 20} characters) is not a tag (1-40 characters, no commas or control "
        "characters)")


def test_a_chunked_upload_over_the_limit_is_413(studio, owner):
    boundary = "artforge-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()
    limit = studio.settings.max_upload_bytes

    def body():                                     # no Content-Length: the server learns the size as it reads
        yield head
        for _ in range(limit // (1 << 20) + 2):
            yield bytes(1 << 20)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = owner.post("/api/artworks/upload", content=body(),
                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and r.json()["detail"] == f"request body too large (limit {limit + 64 * 1024} bytes)"


def test_a_time_past_the_last_representable_moment_is_a_clear_422(owner):
    r = owner.get("/api/artworks", params={"since": "9999-12-31T23:59:59-23:59"})
    assert r.status_code == 422 and r.json()["detail"] == (
        "since: '9999-12-31T23:59:59-23:59' is out of range; give a time between the years 1 and 9999 in UTC")


def test_bodies_take_strict_json_types(owner):
    aid = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]["id"]
    r = owner.put(f"/api/artworks/{aid}/favourite", json={"favourite": "yes"})
    assert r.status_code == 422 and r.json()["detail"] == "body.favourite: Input should be a valid boolean"
    r = owner.post("/api/generate", json={"n": True})
    assert r.status_code == 422 and r.json()["detail"] == "body.n: Input should be a valid integer"
    r = owner.post("/api/generate", json={"no_copies": 1})
    assert r.status_code == 422 and r.json()["detail"] == "body.no_copies: Input should be a valid boolean"
    assert owner.get("/api/artworks").json()["total"] == 1


def test_a_refusal_names_the_role_in_good_english(editor, viewer):
    r = editor.post("/api/users", json={"username": "x", "password": "long enough!", "role": "viewer"})
    assert r.status_code == 403 and r.json()["detail"] == "eddie is an editor; this needs owner rights"
    r = viewer.post("/api/generate", json={"n": 1})
    assert r.status_code == 403 and r.json()["detail"] == "vera is a viewer; this needs editor rights"


def test_an_uploaded_recipe_is_kept_as_the_files_claim_not_as_fact(owner):
    parent = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]
    claim = {"pipeline": "breed", "output": "image", "created": "2020-01-01T00:00:00+00:00",
             "params": {"seed": 3, "image_seed": 3, "copy_check": {"flagged": True, "nearest_train": 0}},
             "model": {"name": "starter", "sha256": parent["recipe"]["model"]["sha256"]},
             "dataset": {"licence": "CC0-1.0", "consent": "yes, all of it"},
             "parents": [{"artwork": parent["id"], "sha256": parent["sha256"]}]}
    art = owner.post("/api/artworks/upload",
                     files={"file": ("claim.png", png(text={RECIPE_KEY: json.dumps(claim)}))}).json()
    assert (art["pipeline"], art["model"], art["seed"]) == ("upload", "upload", None)
    recipe = art["recipe"]
    assert recipe["pipeline"] == "upload" and recipe["verified"] is False and recipe["claimed"] == claim
    assert recipe["params"] == {"filename": "claim.png"} and recipe["model"] == {} and recipe["dataset"] == {}
    assert recipe["parents"] == [] and owner.get(f"/api/artworks/{art['id']}/lineage").json()["parents"] == []
    assert owner.get("/api/artworks", params={"model": "starter"}).json()["total"] == 1     # the real one only


NOTE = ("model 'myrun' has no copy-check index (its run was trained without one): its images cannot be "
        "compared with its training images, so 'No copies' is not available for it")
NO_INDEX = f"no_copies: {NOTE}; untick 'No copies' to generate without the check"


def test_no_copies_on_a_model_without_its_copy_check_index_says_so_without_server_paths(tmp_path):
    from conftest import Studio, make_settings

    s = Studio(make_settings(tmp_path / "data", copy_check_factory=None))      # the real copy check
    try:
        owner = s.owner()
        make_run(s)                                              # trained with eval.kid_every = 0: no index
        models = {m["name"]: m for m in owner.get("/api/models").json()}
        assert (models["myrun"]["copy_check"], models["myrun"]["copy_check_note"]) == (False, NOTE)
        assert (models["starter"]["copy_check"], models["starter"]["copy_check_note"]) == (True, None)
        for r in (owner.post("/api/generate", json={"model": "myrun", "n": 1}),
                  owner.post("/api/jobs", json={"kind": "generate", "params": {"model": "myrun", "n": 1}})):
            assert r.status_code == 422 and r.json()["detail"] == NO_INDEX, r.text
        assert owner.post("/api/generate", json={"model": "myrun", "n": 1, "no_copies": False}).status_code == 201
    finally:
        s.close()
