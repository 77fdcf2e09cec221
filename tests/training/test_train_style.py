"""Style training on folders with broken files: skipped and listed, as GAN training does."""

from __future__ import annotations

import json


def test_broken_content_and_style_files_are_skipped_and_listed(cli, art, tmp_path, capsys):
    content, styles = tmp_path / "content", tmp_path / "styles"
    content.mkdir()
    styles.mkdir()
    for i in range(3):
        art(10 + i, size=72).save(content / f"c{i}.png")
    for i in range(2):
        art(20 + i, size=72).save(styles / f"s{i}.png")
    (content / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not the rest of a picture")
    (styles / "empty.jpg").write_bytes(b"")
    run = tmp_path / "run"
    assert cli("train", "style", styles, "--run", run, f"data.content={content}", "model.widths=8,8,16",
               "--steps", 1, "data.px=48", "train.batch_size=2", "train.sample_every=0") == 0
    err = capsys.readouterr().err.replace("\r", "\n").splitlines()
    start = err.index("skipped 2 unusable file(s):")
    assert [line.split(":")[0] for line in err[start + 1:start + 3]] == [
        f"  content image {content / 'broken.png'}", f"  style image {styles / 'empty.jpg'}"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted([str(content / f"c{i}.png") for i in range(3)]
                                               + [str(styles / f"s{i}.png") for i in range(2)])
