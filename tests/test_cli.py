"""The CLI: keys and trash against a data folder, settings from every source."""

import os
from pathlib import Path

import pytest
from conftest import Workfront, make_settings
from starlette.testclient import TestClient
from typer.testing import CliRunner

from docrelay.app import create_app
from docrelay.cli import app
from docrelay.config import load_settings

runner = CliRunner()


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    created = runner.invoke(app, ["keys", "create", "--name", "ci", *data])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("drk_")
    key_id = key.split("_")[1]
    listed = runner.invoke(app, ["keys", "list", *data])
    assert key_id in listed.output and key not in listed.output
    settings = make_settings(tmp_path, api_key=None)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        headers = {"apiKey": key, "username": "ci@example.com"}
        assert client.get("/api/files", headers=headers).status_code == 200
        assert runner.invoke(app, ["keys", "revoke", key_id, *data]).exit_code == 0
        assert client.get("/api/files", headers=headers).status_code == 403
    assert runner.invoke(app, ["keys", "revoke", key_id, *data]).exit_code == 1


def test_trash_list_restore_purge(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        folder = wf.folder("/", "Projects")
        child = wf.upload(folder["id"], "brief.txt", b"brief")
        other = wf.upload("/", "other.txt", b"other")
        assert wf.call("PUT", "delete", params={"id": folder["id"]}).status_code == 200
        assert wf.call("PUT", "delete", params={"id": other["id"]}).status_code == 200
        assert not (wf.root / "Projects").exists()
        assert wf.get("metadata", params={"id": child["id"]}).status_code == 404
    options = ["--data-dir", str(settings.data_dir), "--root", settings.root]
    listed = runner.invoke(app, ["trash", "list", *options])
    assert "Projects" in listed.output and "ada@example.com" in listed.output
    trash_id = next(line.split()[1] for line in listed.output.splitlines() if "Projects" in line)
    restored = runner.invoke(app, ["trash", "restore", trash_id, *options])
    assert restored.exit_code == 0, restored.output
    assert (Path(settings.root) / "Projects" / "brief.txt").read_bytes() == b"brief"
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        assert wf.metadata(child["id"])["title"] == "brief.txt"
        assert wf.get("download", params={"id": child["id"]}).content == b"brief"
    purged = runner.invoke(app, ["trash", "purge", "--all", *options])
    assert "Purged 1" in purged.output
    trash_folder = Path(settings.root) / ".~docrelay" / "trash"
    assert list(trash_folder.iterdir()) == []


def test_restore_takes_a_free_name_when_the_old_one_was_taken(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        first = wf.upload("/", "a.txt", b"first")
        wf.call("PUT", "delete", params={"id": first["id"]})
        wf.upload("/", "a.txt", b"second")
        from docrelay.catalog.trash import Trash

        trash = Trash(client.app.state.services.catalog)
        [entry] = trash.entries()
        restored = trash.restore(entry.id)
        assert restored.title == "a (1).txt" and restored.id == first["id"]
        assert wf.get("download", params={"id": first["id"]}).content == b"first"


def test_settings_sources_and_their_origins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "docrelay.toml"
    config.write_text(
        'display_name = "From file"\nport = 9001\non_conflict = "fail"\n'
        '[[access]]\nusers = "*@x.example"\naccess = "read-only"\n'
    )
    monkeypatch.setenv("DOCRELAY_PORT", "9002")
    monkeypatch.setenv("DOCRELAY_ON_CONFLICT", "rename")
    settings, origins = load_settings({"on_conflict": "fail", "host": None}, config)
    assert settings.display_name == "From file" and origins["display_name"] == f"file {config}"
    assert settings.port == 9002 and origins["port"] == "environment DOCRELAY_PORT"
    assert settings.on_conflict == "fail" and origins["on_conflict"] == "command line"
    assert settings.host == "127.0.0.1" and origins["host"] == "default"
    assert settings.access[0].access == "read-only"
    assert "DOCRELAY_PORT" in os.environ


def test_a_typo_in_the_config_file_stops_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('rooot = "/srv"\n')
    result = runner.invoke(app, ["keys", "list", "--config", str(config)])
    assert result.exit_code == 2
    assert "rooot" in result.output
