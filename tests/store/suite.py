"""The Store contract (docrelay/store/base.py), checked the same way on every back-end.

A back-end's test module is two lines: a subclass naming the back-end, whose fixture
``{backend}_backend`` in conftest.py says what that store can and cannot do.
"""

import hashlib
import tracemalloc
import unicodedata

import pytest

from docrelay.errors import StoreUnavailable
from docrelay.names import INTERNAL_PREFIX
from docrelay.store.base import Entry, Path, Store
from store.conftest import Backend

MIB = 1024 * 1024


def put(store: Store, folder: Path, name: str, data: bytes, replace: bool = False) -> Entry:
    writer = store.begin_write(folder)
    writer.write(data)
    return writer.commit(name, replace=replace)


def read(store: Store, path: Path) -> bytes:
    with store.open_read(path) as handle:
        return handle.read()


def names(store: Store, folder: Path = ()) -> list[str]:
    return sorted(entry.name for entry in store.list_folder(folder))


class StoreSuite:
    backend: str  # the name of the conftest fixture ``{backend}_backend``

    @pytest.fixture
    def store(self, backend: Backend) -> Store:
        return backend.make()

    # -- reading ---------------------------------------------------------------------

    def test_root_starts_empty(self, store: Store) -> None:
        assert store.list_folder(()) == []
        assert store.stat(()).kind == "folder"

    def test_written_file_is_listed_and_stat_agrees(self, store: Store) -> None:
        store.make_folder((), "folder")
        entry = put(store, (), "a.txt", b"hello")
        assert (entry.name, entry.kind, entry.size) == ("a.txt", "file", 5)
        listed = {item.name: item for item in store.list_folder(())}
        assert listed["a.txt"] == entry == store.stat(("a.txt",))
        assert listed["folder"] == store.stat(("folder",))
        assert listed["folder"].kind == "folder"
        assert read(store, ("a.txt",)) == b"hello"

    def test_ranged_reads_seek_anywhere(self, store: Store) -> None:
        data = bytes(range(256)) * (6 * 4096)  # 6 MiB: more than one read block
        put(store, (), "big.bin", data)
        with store.open_read(("big.bin",)) as handle:
            assert handle.seekable()
            handle.seek(5 * MIB + 7)
            assert handle.read(1000) == data[5 * MIB + 7 : 5 * MIB + 1007]
            handle.seek(10)
            assert handle.tell() == 10
            assert handle.read(5) == data[10:15]
            handle.seek(len(data) - 3)
            assert handle.read(100) == data[-3:]
            assert handle.read(10) == b""

    def test_missing_items_and_wrong_kinds(self, store: Store) -> None:
        put(store, (), "a.txt", b"x")
        store.make_folder((), "d")
        with pytest.raises(FileNotFoundError):
            store.stat(("nope",))
        with pytest.raises(FileNotFoundError):
            store.list_folder(("nope",))
        with pytest.raises(NotADirectoryError):
            store.list_folder(("a.txt",))
        with pytest.raises(FileNotFoundError):
            store.open_read(("nope",))
        with pytest.raises(IsADirectoryError):
            store.open_read(("d",))

    def test_paths_stay_under_the_root(self, store: Store) -> None:
        store.make_folder((), "d")
        for path in [("..",), ("d", "..", ".."), (INTERNAL_PREFIX,), (INTERNAL_PREFIX, "trash")]:
            with pytest.raises(FileNotFoundError):
                store.stat(path)
            with pytest.raises(FileNotFoundError):
                store.list_folder(path)

    def test_unicode_names(self, store: Store) -> None:
        name = unicodedata.normalize("NFC", "Résumé – 日本語 😀.txt")
        put(store, (), name, b"unicode")
        store.make_folder((), "Ördner ß")
        put(store, ("Ördner ß",), "ﬁle ①.pdf", b"pdf")
        assert names(store) == sorted([name, "Ördner ß"])
        assert read(store, (name,)) == b"unicode"
        assert read(store, ("Ördner ß", "ﬁle ①.pdf")) == b"pdf"

    def test_punctuation_in_names(self, store: Store) -> None:
        wanted = [
            "a;b.txt",
            "[draft] {v2} #3.txt",
            "100% & more+=.txt",
            "why?.txt",
            "it's $5 @ ~.md",
        ]
        allowed = [name for name in wanted if not set(name) & set(store.refused_chars)]
        folder = "d #1;x [*]" if not set("#;") & set(store.refused_chars) else "d [*] {x}"
        store.make_folder((), folder)
        for name in allowed:
            put(store, (folder,), name, name.encode())
        assert names(store, (folder,)) == sorted(allowed)
        for name in allowed:
            assert read(store, (folder, name)) == name.encode()
            store.move((folder, name), (), name)
        store.make_folder((folder,), "[sub]")
        store.move((folder,), (), "moved [*]")
        assert names(store) == sorted([*allowed, "moved [*]"])
        assert names(store, ("moved [*]",)) == ["[sub]"]
        store.trash(("moved [*]",), "token")
        store.purge("token")
        assert names(store) == sorted(allowed)

    # -- writing ---------------------------------------------------------------------

    def test_commit_never_clobbers_and_can_try_another_name(self, store: Store) -> None:
        put(store, (), "a.txt", b"first")
        writer = store.begin_write(())
        writer.write(b"second")
        with pytest.raises(FileExistsError):
            writer.commit("a.txt", replace=False)
        assert read(store, ("a.txt",)) == b"first"
        entry = writer.commit("a (1).txt", replace=False)
        assert entry.name == "a (1).txt"
        assert read(store, ("a (1).txt",)) == b"second"
        writer.abort()  # safe after commit
        assert names(store) == ["a (1).txt", "a.txt"]

    def test_commit_onto_a_folder_name_is_refused(self, store: Store) -> None:
        store.make_folder((), "d")
        writer = store.begin_write(())
        writer.write(b"x")
        with pytest.raises(FileExistsError):
            writer.commit("d", replace=False)
        writer.abort()
        assert store.stat(("d",)).kind == "folder"

    def test_replace_replaces_and_changes_the_etag(self, store: Store) -> None:
        first = put(store, (), "a.txt", b"first version")
        second = put(store, (), "a.txt", b"second, longer version", replace=True)
        assert read(store, ("a.txt",)) == b"second, longer version"
        assert second.etag != first.etag
        assert names(store) == ["a.txt"]

    def test_same_size_rewrite_changes_the_etag(self, store: Store, backend: Backend) -> None:
        if not backend.subsecond_etags:
            pytest.skip("this server's ETag is size and a whole-second mtime")
        first = put(store, (), "a.txt", b"aaaa")
        second = put(store, (), "a.txt", b"bbbb", replace=True)
        assert second.etag != first.etag
        assert store.stat(("a.txt",)).etag == second.etag

    def test_abort_leaves_nothing(self, store: Store, backend: Backend) -> None:
        store.make_folder((), "d")
        before = backend.raw_names(("d",))
        writer = store.begin_write(("d",))
        chunk = b"z" * MIB
        for _ in range(7):  # past one S3 part: a multipart upload is under way
            writer.write(chunk)
        writer.abort()
        writer.abort()
        assert backend.raw_names(("d",)) == before
        assert store.list_folder(("d",)) == []
        fs = getattr(store, "fs", None)
        if hasattr(fs, "list_multipart_uploads"):
            root = getattr(store, "root", "")
            uploads = fs.list_multipart_uploads(root.split("/")[0])
            assert [up for up in uploads if up["Key"].startswith(root.split("/", 1)[-1])] == []

    def test_temporaries_are_hidden_and_discarded(self, store: Store, backend: Backend) -> None:
        writer = store.begin_write(())
        writer.write(b"half an upload")
        assert writer.temporary.startswith(INTERNAL_PREFIX)
        assert len(writer.temporary) <= 20
        assert store.list_folder(()) == []
        with pytest.raises(FileNotFoundError):
            store.stat((writer.temporary,))
        # a crash: the writer is never finished; the next start discards the temporary
        store.discard_temporary((), writer.temporary)
        store.discard_temporary((), writer.temporary)
        assert writer.temporary not in backend.raw_names(())
        with pytest.raises(ValueError):
            store.discard_temporary((), "a.txt")
        writer.abort()

    def test_a_large_file_streams_both_ways(self, store: Store, backend: Backend) -> None:
        if not backend.streams:
            pytest.skip("this store keeps files in memory")
        # S3 parts are 5 MiB at least, and s3fs, botocore and the socket each hold one:
        # a file eight parts long shows that memory stays at the parts, not the file
        size, chunk_size = max(20 * MIB, 8 * backend.part_size), 256 * 1024
        digest = hashlib.sha256()
        tracemalloc.start()
        try:
            writer = store.begin_write(())
            for index in range(size // chunk_size):
                chunk = bytes([index % 251]) * chunk_size
                digest.update(chunk)
                writer.write(chunk)
            writer.commit("big.bin", replace=False)
            _now, written_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            back = hashlib.sha256()
            with store.open_read(("big.bin",)) as handle:
                while block := handle.read(chunk_size):
                    back.update(block)
            _now, read_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert back.hexdigest() == digest.hexdigest()
        assert store.stat(("big.bin",)).size == size
        assert written_peak < size / 2, f"writing held {written_peak / MIB:.1f} MiB"
        assert read_peak < size / 2, f"reading held {read_peak / MIB:.1f} MiB"

    # -- folders -----------------------------------------------------------------------

    def test_empty_folders_persist(self, store: Store, backend: Backend) -> None:
        made = store.make_folder((), "empty")
        assert made.kind == "folder"
        store.make_folder(("empty",), "inner")
        again = backend.make()  # a new connection, no cache
        assert names(again) == ["empty"]
        assert names(again, ("empty",)) == ["inner"]
        assert again.list_folder(("empty", "inner")) == []
        assert again.stat(("empty", "inner")).kind == "folder"

    def test_make_folder_refuses_taken_names_and_missing_parents(self, store: Store) -> None:
        store.make_folder((), "d")
        put(store, (), "f.txt", b"x")
        with pytest.raises(FileExistsError):
            store.make_folder((), "d")
        with pytest.raises(FileExistsError):
            store.make_folder((), "f.txt")
        with pytest.raises(FileNotFoundError):
            store.make_folder(("nope",), "d")
        with pytest.raises(FileNotFoundError):
            store.begin_write(("nope",))

    def test_walk_visits_every_folder(self, store: Store) -> None:
        store.make_folder((), "d")
        store.make_folder(("d",), "e")
        put(store, ("d", "e"), "f.txt", b"f")
        put(store, ("d",), "g.txt", b"g")
        walked = {path: sorted(entry.name for entry in entries) for path, entries in store.walk()}
        assert walked == {(): ["d"], ("d",): ["e", "g.txt"], ("d", "e"): ["f.txt"]}

    # -- moving ------------------------------------------------------------------------

    def test_rename_and_move_a_file(self, store: Store) -> None:
        put(store, (), "a.txt", b"content")
        store.make_folder((), "d")
        renamed = store.move(("a.txt",), (), "b.txt")
        assert renamed.name == "b.txt"
        assert names(store) == ["b.txt", "d"]
        moved = store.move(("b.txt",), ("d",), "c.txt")
        assert moved == store.stat(("d", "c.txt"))
        assert names(store) == ["d"]
        assert read(store, ("d", "c.txt")) == b"content"

    def test_move_onto_a_taken_name_is_refused(self, store: Store) -> None:
        put(store, (), "a.txt", b"a")
        put(store, (), "b.txt", b"b")
        store.make_folder((), "d")
        with pytest.raises(FileExistsError):
            store.move(("a.txt",), (), "b.txt")
        with pytest.raises(FileExistsError):
            store.move(("d",), (), "a.txt")
        assert read(store, ("a.txt",)) == b"a"
        assert read(store, ("b.txt",)) == b"b"

    def test_case_only_rename(self, store: Store) -> None:
        put(store, (), "Report.TXT", b"r")
        store.make_folder((), "Folder")
        assert store.move(("Report.TXT",), (), "report.txt").name == "report.txt"
        assert store.move(("Folder",), (), "folder").name == "folder"
        assert names(store) == ["folder", "report.txt"]
        assert read(store, ("report.txt",)) == b"r"

    def test_move_a_folder_with_its_contents(self, store: Store) -> None:
        store.make_folder((), "d")
        store.make_folder(("d",), "empty")
        store.make_folder(("d",), "e")
        put(store, ("d", "e"), "f.txt", b"f")
        store.make_folder((), "target")
        moved = store.move(("d",), ("target",), "x")
        assert moved.kind == "folder"
        assert names(store) == ["target"]
        assert names(store, ("target", "x")) == ["e", "empty"]
        assert read(store, ("target", "x", "e", "f.txt")) == b"f"
        assert store.list_folder(("target", "x", "empty")) == []

    # -- trash -------------------------------------------------------------------------

    def test_trash_restore_purge(self, store: Store) -> None:
        put(store, (), "a.txt", b"a")
        store.make_folder((), "d")
        store.make_folder(("d",), "empty")
        put(store, ("d",), "b.txt", b"b")
        store.trash(("a.txt",), "tokenA")
        store.trash(("d",), "tokenD")
        assert store.list_folder(()) == []
        with pytest.raises(FileNotFoundError):
            store.list_folder((INTERNAL_PREFIX,))
        put(store, (), "a.txt", b"new a")
        with pytest.raises(FileExistsError):
            store.restore("tokenA", (), "a.txt")
        assert store.restore("tokenA", (), "a (1).txt").kind == "file"
        assert read(store, ("a (1).txt",)) == b"a"
        assert store.restore("tokenD", (), "d").kind == "folder"
        assert names(store, ("d",)) == ["b.txt", "empty"]
        store.trash(("d",), "tokenD2")
        store.purge("tokenD2")
        store.purge("tokenD2")
        store.purge("never-trashed")
        with pytest.raises(FileNotFoundError):
            store.restore("tokenD2", (), "d")
        assert names(store) == ["a (1).txt", "a.txt"]

    # -- failures ----------------------------------------------------------------------

    def test_an_unreachable_store_is_unavailable(self, backend: Backend) -> None:
        if backend.unreachable is None:
            pytest.skip("this store cannot be out of reach")
        store = backend.unreachable()
        with pytest.raises(StoreUnavailable):
            store.check()
        with pytest.raises(StoreUnavailable):
            store.list_folder(())
        with pytest.raises(StoreUnavailable):
            store.stat(())
