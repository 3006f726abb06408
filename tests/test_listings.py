"""Listings kept in memory (docrelay/catalog/listings.py) never answer a folder as it was.

Every test lists a folder once so that its listing is kept, changes the folder (behind
docrelay's back, at once, with no pause for events to arrive, or through docrelay), and
checks the next listing against what the disk holds now, read here with os.stat.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.api.metadata import rfc3339
from docrelay.app import create_app
from docrelay.catalog import listings as listings_module
from docrelay.store import changes as changes_module
from docrelay.store.changes import FolderChanges, file_systems
from docrelay.store.local import LocalStore

READER = "reader@example.com"


class Counting:
    """Counts the store's listings, so that a test knows which answers were kept ones."""

    def __init__(self, store: Any) -> None:
        self.calls = 0
        self._list = store.list_folder
        store.list_folder = self

    def __call__(self, folder: Any) -> Any:
        self.calls += 1
        return self._list(folder)


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path, access=[{"users": READER, "access": "read-only"}], listing_cache_items=1000
    )
    Path(settings.root).mkdir(parents=True, exist_ok=True)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        yield client


@pytest.fixture
def wf(app_client: TestClient, tmp_path: Path) -> Workfront:
    return Workfront(app_client, tmp_path / "documents")


@pytest.fixture
def listings(wf: Workfront) -> Counting:
    return Counting(wf.client.app.state.services.store)  # type: ignore[attr-defined]


def on_disk(path: Path) -> dict[str, Any]:
    """What a listing must say of the file at ``path``, from the disk itself."""
    info = os.stat(path)
    return {"size": info.st_size, "dateModified": rfc3339(info.st_mtime_ns // 1_000_000)}


def listed(wf: Workfront, folder_id: str, title: str) -> dict[str, Any]:
    [item] = [item for item in wf.files(folder_id) if item["title"] == title]
    return item


def kept_folder(wf: Workfront, names: dict[str, bytes]) -> tuple[str, Path]:
    """A folder of these files, listed until its listing is answered from memory."""
    folder = wf.folder("/", "kept")
    path = wf.root / "kept"
    for name, content in names.items():
        (path / name).write_bytes(content)
    for _ in range(3):
        wf.files(folder["id"])
    return folder["id"], path


def test_an_unchanged_local_folder_is_answered_without_listing_it_again(
    wf: Workfront, listings: Counting
) -> None:
    store = wf.client.app.state.services.store  # type: ignore[attr-defined]
    if not store.changes.active or not store.changes.trusted(os.stat(wf.root).st_dev):
        pytest.skip(f"no trusted file events on {wf.root}: every listing lists the folder")
    folder_id, _path = kept_folder(wf, {f"report {n}.txt": b"x" * n for n in range(50)})
    before = listings.calls
    first = wf.files(folder_id)
    assert wf.files(folder_id) == first
    assert listings.calls == before  # vouched for by file events
    assert [item["title"] for item in first] == [f"report {n}.txt" for n in range(50)]
    assert [item["size"] for item in first] == list(range(50))


@pytest.mark.parametrize(
    "change",
    ["rewrite", "append", "truncate", "touch", "create", "delete", "rename", "replace"],
)
def test_a_change_behind_docrelays_back_shows_at_the_next_listing(
    wf: Workfront, change: str
) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"first", "b.txt": b"second"})
    ids = {item["title"]: item["id"] for item in wf.files(folder_id)}
    target = path / "a.txt"
    if change == "rewrite":
        target.write_bytes(b"rewritten, longer")
    elif change == "append":
        with open(target, "ab") as handle:
            handle.write(b" and more")
    elif change == "truncate":
        os.truncate(target, 2)
    elif change == "touch":
        os.utime(target, ns=(1_600_000_000_123_000_000, 1_600_000_000_123_000_000))
    elif change == "create":
        (path / "c.txt").write_bytes(b"new")
    elif change == "delete":
        target.unlink()
    elif change == "rename":
        os.rename(target, path / "renamed.txt")
    elif change == "replace":  # another file put in its place, as editors save
        (path / "a.txt.tmp").write_bytes(b"saved anew")
        os.replace(path / "a.txt.tmp", target)
    now = {item["title"]: item for item in wf.files(folder_id)}
    expected = sorted(entry.name for entry in os.scandir(path))
    assert sorted(now) == expected
    for title, item in now.items():
        assert {key: item[key] for key in ("size", "dateModified")} == on_disk(path / title)
    if change == "rename":
        assert now["renamed.txt"]["id"] == ids["a.txt"]


def test_a_child_folders_date_follows_what_it_holds(wf: Workfront) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    (path / "inner").mkdir()
    os.utime(path / "inner", ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    assert listed(wf, folder_id, "inner")["dateModified"] == rfc3339(1_500_000_000_000)
    wf.files(folder_id)
    (path / "inner" / "new.txt").write_bytes(b"changes inner's modification time")
    assert listed(wf, folder_id, "inner")["dateModified"] == on_disk(path / "inner")["dateModified"]


def test_a_file_written_through_another_name_is_seen(wf: Workfront, tmp_path: Path) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    elsewhere = wf.root / "elsewhere"
    elsewhere.mkdir()
    os.link(path / "a.txt", elsewhere / "hard.txt")  # a second name, in another folder
    (elsewhere / "target.txt").write_bytes(b"target")
    os.symlink(elsewhere / "target.txt", path / "link.txt")
    assert listed(wf, folder_id, "a.txt")["size"] == 1
    assert listed(wf, folder_id, "link.txt")["size"] == len(b"target")
    with open(elsewhere / "hard.txt", "ab") as handle:
        handle.write(b" written through the hard link")
    with open(elsewhere / "target.txt", "ab") as handle:
        handle.write(b" written through the link's target")
    assert listed(wf, folder_id, "a.txt")["size"] == os.stat(path / "a.txt").st_size
    assert listed(wf, folder_id, "link.txt")["size"] == os.stat(elsewhere / "target.txt").st_size


def test_a_link_whose_chain_is_pointed_elsewhere_is_seen(wf: Workfront, tmp_path: Path) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    (wf.root / "x").mkdir()
    (wf.root / "x" / "file").write_bytes(b"same")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.link(wf.root / "x" / "file", outside / "file")  # the same inode, outside the root
    os.symlink("x", wf.root / "dlink")
    os.symlink("../dlink/file", path / "via")
    assert [item["title"] for item in wf.files(folder_id)] == ["a.txt", "via"]
    wf.files(folder_id)
    os.unlink(wf.root / "dlink")
    os.symlink(outside, wf.root / "dlink")  # "via" now leads out of the root
    assert [item["title"] for item in wf.files(folder_id)] == ["a.txt"]
    os.unlink(wf.root / "dlink")
    os.symlink("x", wf.root / "dlink")
    [via] = [item for item in wf.files(folder_id) if item["title"] == "via"]
    assert wf.metadata(via["id"])["size"] == 4


def test_an_item_found_gone_leaves_the_kept_listing(wf: Workfront, tmp_path: Path) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    (tmp_path / "target.txt").write_bytes(b"t")
    os.symlink(wf.root / "x.txt", path / "link.txt")  # broken: not listed
    (wf.root / "x.txt").write_bytes(b"x")  # now it leads to a file in the root
    [link] = [item for item in wf.files(folder_id) if item["title"] == "link.txt"]
    os.unlink(wf.root / "x.txt")
    assert wf.get("metadata", params={"id": link["id"]}).status_code == 404
    assert [item["title"] for item in wf.files(folder_id)] == ["a.txt"]


def test_a_folder_replaced_at_its_path_is_listed_anew(wf: Workfront) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    shutil.rmtree(path)
    path.mkdir()
    (path / "b.txt").write_bytes(b"bb")
    assert [item["title"] for item in wf.files(folder_id)] == ["b.txt"]


def test_changes_through_docrelay_show_at_once(wf: Workfront) -> None:
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    uploaded = wf.upload(folder_id, "up.txt", b"uploaded")
    assert [item["title"] for item in wf.files(folder_id)] == ["a.txt", "up.txt"]
    wf.ok("PUT", "upload", params={"id": uploaded["id"]}, content=b"a new version")
    assert listed(wf, folder_id, "up.txt")["size"] == len(b"a new version")
    wf.ok("PUT", "rename", params={"id": uploaded["id"], "name": "renamed.txt"})
    assert [item["title"] for item in wf.files(folder_id)] == ["a.txt", "renamed.txt"]
    wf.folder(folder_id, "sub")
    assert [item["title"] for item in wf.files(folder_id)] == ["sub", "a.txt", "renamed.txt"]
    wf.ok("PUT", "delete", params={"id": uploaded["id"]})
    assert [item["title"] for item in wf.files(folder_id)] == ["sub", "a.txt"]
    assert sorted(os.listdir(path)) == ["a.txt", "sub"]


def test_each_user_gets_their_own_rights_and_the_windows_are_slices(wf: Workfront) -> None:
    folder_id, _path = kept_folder(wf, {f"{n:02d}.txt": b"x" for n in range(10)})
    reader = Workfront(wf.client, wf.root, user=READER)
    mine, theirs = wf.files(folder_id), reader.files(folder_id)
    assert {item["readOnly"] for item in mine} == {False}
    assert {item["readOnly"] for item in theirs} == {True}
    assert [item["id"] for item in mine] == [item["id"] for item in theirs]
    assert wf.files(folder_id, max=3, offset=4) == mine[4:7]
    assert reader.files(folder_id, offset=8) == theirs[8:]


def test_a_folder_on_a_file_system_without_trusted_events_is_listed_every_time(
    wf: Workfront, listings: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes_module, "RELIABLE", frozenset())  # as on NFS or SMB
    folder_id, path = kept_folder(wf, {"a.txt": b"a"})
    before = listings.calls
    wf.files(folder_id)
    wf.files(folder_id)
    assert listings.calls == before + 2
    with open(path / "a.txt", "ab") as handle:
        handle.write(b"bc")
    assert listed(wf, folder_id, "a.txt")["size"] == 3


def test_a_kept_listing_is_listed_again_after_trust_seconds(
    wf: Workfront, listings: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder_id, _path = kept_folder(wf, {"a.txt": b"a"})
    monkeypatch.setattr(listings_module, "TRUST_SECONDS", 0.0)
    before = listings.calls
    first = wf.files(folder_id)
    assert wf.files(folder_id) == first
    assert listings.calls == before + 2


def test_no_listing_is_kept_with_a_budget_of_zero(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, listing_cache_items=0)
    Path(settings.root).mkdir(parents=True)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        counting = Counting(client.app.state.services.store)  # type: ignore[attr-defined]
        folder_id, path = kept_folder(wf, {"a.txt": b"a"})
        before = counting.calls
        wf.files(folder_id)
        wf.files(folder_id)
        assert counting.calls == before + 2
        assert len(client.app.state.services.catalog.listings) == 0  # type: ignore[attr-defined]
        (path / "b.txt").write_bytes(b"b")
        assert [item["title"] for item in wf.files(folder_id)] == ["a.txt", "b.txt"]


def test_the_budget_evicts_the_least_recently_listed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, listing_cache_items=5)
    Path(settings.root).mkdir(parents=True)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        kept = client.app.state.services.catalog.listings  # type: ignore[attr-defined]
        small = wf.folder("/", "small")
        big = wf.folder("/", "big")
        for n in range(3):
            (wf.root / "small" / f"{n}.txt").write_bytes(b"s")
            (wf.root / "big" / f"{n}.txt").write_bytes(b"b")
        (wf.root / "big" / "3.txt").write_bytes(b"b")
        wf.files(small["id"])
        wf.files(big["id"])  # 3 + 4 > 5: the small folder's listing goes
        assert [listing.folder_pk for listing in kept._kept.values()] == [
            client.app.state.services.catalog.item(big["id"]).pk  # type: ignore[attr-defined]
        ]
        assert [item["title"] for item in wf.files(small["id"])] == ["0.txt", "1.txt", "2.txt"]


# --- the file events alone ---------------------------------------------------------------


@pytest.fixture
def events() -> Iterator[FolderChanges]:
    changes = FolderChanges(limit=2)
    if not changes.active:
        pytest.skip("inotify is not available here")
    yield changes
    changes.close()


def test_a_stamp_changes_with_every_kind_of_change(events: FolderChanges, tmp_path: Path) -> None:
    folder = str(tmp_path)
    (tmp_path / "a").write_bytes(b"a")
    first = events.stamp(folder)
    assert first is not None
    assert events.stamp(folder) == first
    steps = [
        lambda: (tmp_path / "a").write_bytes(b"ab"),
        lambda: os.utime(tmp_path / "a", ns=(1, 1)),
        lambda: os.chmod(tmp_path / "a", 0o600),
        lambda: (tmp_path / "b").write_bytes(b""),
        lambda: os.rename(tmp_path / "b", tmp_path / "c"),
        lambda: os.unlink(tmp_path / "c"),
        lambda: os.mkdir(tmp_path / "d"),
    ]
    seen = [first]
    for step in steps:
        step()
        stamp = events.stamp(folder)
        assert stamp not in seen
        assert events.stamp(folder) == stamp
        seen.append(stamp)


def test_temporaries_of_uploads_are_not_changes(events: FolderChanges, tmp_path: Path) -> None:
    folder = str(tmp_path)
    first = events.stamp(folder)
    (tmp_path / ".~docrelay-0123abcd").write_bytes(b"bytes on their way")
    assert events.stamp(folder) == first
    os.rename(tmp_path / ".~docrelay-0123abcd", tmp_path / "done.txt")
    assert events.stamp(folder) != first


def test_watches_beyond_the_limit_are_dropped_and_made_again(
    events: FolderChanges, tmp_path: Path
) -> None:
    folders = []
    for name in "xyz":
        (tmp_path / name).mkdir()
        folders.append(str(tmp_path / name))
    stamps = [events.stamp(folder) for folder in folders]
    assert len(events._by_path) == 2
    again = events.stamp(folders[0])  # its watch was dropped: a new one, a new stamp
    assert again is not None and again != stamps[0]


def test_only_file_systems_of_this_kernel_are_trusted(tmp_path: Path) -> None:
    device = os.stat(tmp_path).st_dev
    kind = file_systems().get(device)
    assert kind is not None  # every mounted file system is in /proc/self/mountinfo
    changes = FolderChanges()
    assert changes.trusted(device) == (kind in changes_module.RELIABLE)
    assert changes.file_system(os.makedev(4095, 1048575)) == "unknown"
    assert not changes.trusted(os.makedev(4095, 1048575))
    changes.close()


def test_a_local_store_lists_the_same_with_or_without_events(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"f")
    (tmp_path / "sub").mkdir()
    store = LocalStore(tmp_path)
    before = store.list_folder(())
    assert store.listing_stamp(()) is not None or not store.changes.active
    assert store.list_folder(()) == before
    store.close()
