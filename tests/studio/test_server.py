"""The `artforge studio` verb and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from artforge.cli import studio as studio_cli
from artforge.studio import create_app, prepare
from conftest import PASSWORD, make_settings


def test_a_real_server_answers_on_a_free_port(tmp_path):
    settings = make_settings(tmp_path / "d")
    link = prepare(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))                      # the OS picks a free port; uvicorn serves on this socket
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            assert c.get("/api/health").json()["ok"] is True
            token = link.split("token=")[1]
            r = c.get(f"/signin?token={token}", follow_redirects=False)
            assert r.status_code == 303
            assert c.get("/api/me").json()["username"] == "owner"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def _serve_nothing(calls):
    def serve(app, host, port, quiet=False):
        calls.append((app, host, port))
    return serve


def test_first_start_prints_a_one_time_sign_in_link(cli, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(studio_cli, "serve", _serve_nothing(calls))
    data = tmp_path / "data"
    assert cli("studio", "--data-dir", data, "--port", 7999) == 0
    out = capsys.readouterr().out
    assert "sign in (one-time link): http://127.0.0.1:7999/signin?token=" in out
    assert calls and calls[0][1:] == ("127.0.0.1", 7999) and (data / "studio.sqlite3").is_file()
    # Until a password is set, each start prints a fresh link; afterwards it does not.
    assert cli("studio", "--data-dir", data) == 0 and "one-time link" in capsys.readouterr().out
    app = calls[-1][0]
    acc = app.state.studio.accounts
    acc.set_password(1, PASSWORD)
    assert cli("studio", "--data-dir", data) == 0 and "one-time link" not in capsys.readouterr().out


def test_binding_beyond_localhost_needs_accounts(cli, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(studio_cli, "serve", _serve_nothing(calls))
    data = tmp_path / "data"
    assert cli("studio", "--host", "0.0.0.0", "--data-dir", data) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --host 0.0.0.0 would open the studio to the network")
    assert not calls
    assert cli("studio", "--data-dir", data) == 0                 # first start on 127.0.0.1 makes the owner
    calls[-1][0].state.studio.accounts.set_password(1, PASSWORD)
    assert cli("studio", "--host", "0.0.0.0", "--data-dir", data) == 0 and calls[-1][1] == "0.0.0.0"


def test_studio_verb_help(cli, capsys):
    with pytest.raises(SystemExit) as e:
        cli("studio", "--help")
    assert e.value.code == 0 and "--data-dir" in capsys.readouterr().out


def test_a_refused_start_leaves_no_data_folder_behind(cli, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(studio_cli, "serve", _serve_nothing([]))
    data = tmp_path / "data"
    assert cli("studio", "--host", "0.0.0.0", "--data-dir", data) == 2
    assert not data.exists()


def test_a_start_empties_what_a_crash_left_in_tmp(tmp_path):
    settings = make_settings(tmp_path / "d")
    prepare(settings)
    left = settings.tmp_dir / "tmpk3j2_x1"                  # a TemporaryDirectory a killed studio never removed
    (left / "deep").mkdir(parents=True)
    (left / "deep" / "upload.zip").write_bytes(b"PK")
    (settings.tmp_dir / "upload-abc").mkdir()
    prepare(settings)
    assert settings.tmp_dir.is_dir() and list(settings.tmp_dir.iterdir()) == []


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_the_data_folder_and_database_are_private_to_the_user(tmp_path):
    settings = make_settings(tmp_path / "d")
    prepare(settings)
    db = settings.db_path
    assert (_mode(settings.data_dir), _mode(db)) == (0o700, 0o600)
    for side in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        assert not side.exists() or _mode(side) == 0o600


def test_a_data_folder_made_open_by_an_older_studio_is_made_private(tmp_path):
    settings = make_settings(tmp_path / "d")
    settings.data_dir.mkdir(mode=0o755)
    settings.data_dir.chmod(0o755)
    settings.db_path.write_bytes(b"")
    settings.db_path.chmod(0o644)
    prepare(settings)
    assert (_mode(settings.data_dir), _mode(settings.db_path)) == (0o700, 0o600)
