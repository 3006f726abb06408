"""The workers of the mixed load: each owns its items and knows what every answer must be.

A worker creates, changes and deletes only items under its own folder (and its own files
in the shared drop folder, where every worker uploads the same name at once), so it can
tell the exact answer to each of its calls: a listing equal to what it made, a 404 only
for an id it deleted, the bytes it uploaded last. It reads the shared files that no one
changes, and lists the other folders, expecting only a 200 there.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from contract import Contract

REQUEST_TIMEOUT = 60.0
MAX_FILES = 40  # per worker, so the run's disk use stays bounded
WORDS = ["report", "Budget", "notes", "Überblick", "résumé", "plan (draft)", "data_2024", "memo"]
EXTENSIONS = [".txt", ".pdf", ".csv", ".docx", ".png", ".bin", ""]
DROP_NAME = "drop report.txt"


@dataclass(eq=False)
class Folder:
    id: str
    title: str
    parent: Folder | None

    def path(self) -> tuple[str, ...]:
        if self.parent is None:
            return ()
        return (*self.parent.path(), self.title)


@dataclass(eq=False)
class File:
    id: str
    title: str
    folder: Folder
    content: bytes | None = None  # None: reserved by uploadInit, never uploaded
    etag: str | None = None

    def path(self) -> tuple[str, ...]:
        return (*self.folder.path(), self.title)

    def sha256(self) -> str:
        return hashlib.sha256(self.content or b"").hexdigest()


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, kind: str, seconds: float) -> None:
        self.latencies[kind].append(seconds)

    def fail(self, kind: str, message: str) -> None:
        self.error_kinds[kind] += 1
        self.errors.append(f"{kind}: {message}")


@dataclass
class Shared:
    """What every worker may read: the root, the drop folder, files no one changes."""

    root: Folder
    drop: Folder
    readonly: Folder
    readonly_files: list[File]
    tops: list[Folder]


def _describe(kwargs: dict[str, Any]) -> str:
    shown = {key: kwargs[key] for key in ("params", "headers", "data") if key in kwargs}
    return repr(shown)[:300]


class Worker:
    def __init__(
        self,
        number: int,
        client: httpx.AsyncClient,
        contract: Contract,
        stats: Stats,
        top: Folder,
        shared: Shared,
        max_size: int,
    ) -> None:
        self.number = number
        self.client, self.contract, self.stats = client, contract, stats
        self.top, self.shared = top, shared
        self.rng = random.Random(number)
        self.max_size = max_size
        self.folders: list[Folder] = [top]
        self.files: dict[str, File] = {}
        self.deleted: list[str] = []
        self._counter = 0
        self.actions: list[tuple[Callable[[], Awaitable[None]], int]] = [
            (self.browse, 18),
            (self.metadata, 10),
            (self.search, 8),
            (self.download, 18),
            (self.upload_new, 10),
            (self.upload_replace, 8),
            (self.rename, 6),
            (self.delete, 5),
            (self.create_folder, 2),
        ]

    async def run(self, deadline: float) -> None:
        functions = [function for function, _ in self.actions]
        weights = [weight for _, weight in self.actions]
        while time.monotonic() < deadline:
            if len(self.files) > MAX_FILES:
                await self.delete()
            else:
                await self.rng.choices(functions, weights)[0]()

    # --- calls ----------------------------------------------------------------------------

    async def call(
        self, kind: str, method: str, endpoint: str, expect: set[int], **kwargs: Any
    ) -> httpx.Response | None:
        """The response, if it is one of ``expect`` and the document allows it; else None."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                response = await self.client.request(method, f"/api/{endpoint}", **kwargs)
        except (httpx.HTTPError, TimeoutError) as error:
            self.stats.fail(kind, f"{method} /{endpoint}: {type(error).__name__} {error}")
            return None
        self.stats.record(kind, time.perf_counter() - started)
        problem = self.contract.problem(f"/api/{endpoint}", response)
        if response.status_code not in expect:
            problem = f"{response.status_code} {response.text[:200]!r}, expected {sorted(expect)}"
        if problem is not None:
            self.stats.fail(kind, f"{method} /{endpoint} {_describe(kwargs)}: {problem}")
            return None
        return response

    def check(self, kind: str, holds: bool, message: str) -> None:
        if not holds:
            self.stats.fail(kind, message)

    # --- choosing -------------------------------------------------------------------------

    def name(self, extension: str | None = None) -> tuple[str, str]:
        """A new name and its token: the token is in no other name of the run."""
        self._counter += 1
        token = f"w{self.number}n{self._counter}q"
        if extension is None:
            extension = self.rng.choice(EXTENSIONS)
        return f"{self.rng.choice(WORDS)} {token}{extension}", token

    def size(self) -> int:
        roll = self.rng.random()
        if roll < 0.05:
            return 0
        if roll < 0.45:
            high = 4096
        elif roll < 0.9:
            high = 256 * 1024
        else:
            high = self.max_size  # past the server's 1 MiB blocks
        return self.rng.randint(1, min(high, self.max_size))

    def uploaded(self) -> list[File]:
        return [file for file in self.files.values() if file.content is not None]

    def children(self, folder: Folder) -> tuple[list[Folder], list[File]]:
        folders = [child for child in self.folders if child.parent is folder]
        files = [file for file in self.files.values() if file.folder is folder]
        return folders, files

    # --- actions --------------------------------------------------------------------------

    async def browse(self) -> None:
        if self.rng.random() < 0.25:
            shared = self.shared
            folder = self.rng.choice([shared.root, shared.drop, shared.readonly, *shared.tops])
            await self.call("browse", "GET", "files", {200}, params={"parentId": folder.id})
            return
        folder = self.rng.choice(self.folders)
        response = await self.call("browse", "GET", "files", {200}, params={"parentId": folder.id})
        if response is None:
            return
        listed = response.json()
        got = {(item["id"], item["title"], item["kind"], item.get("size")) for item in listed}
        folders, files = self.children(folder)
        expected = {(child.id, child.title, "folder", None) for child in folders} | {
            (file.id, file.title, "file", len(file.content))
            for file in files
            if file.content is not None
        }
        differences = f"unexpected {sorted(got - expected)}, missing {sorted(expected - got)}"
        self.check("browse", got == expected, f"listing of {folder.path()}: {differences}")
        kinds = [item["kind"] for item in listed]
        self.check(
            "browse", kinds == sorted(kinds, key=lambda k: k != "folder"), "not folders first"
        )
        if len(listed) > 2:
            window = {"parentId": folder.id, "max": 2, "offset": 1}
            paged = await self.call("browse", "GET", "files", {200}, params=window)
            if paged is not None:
                same = [item["id"] for item in paged.json()] == [i["id"] for i in listed[1:3]]
                self.check("browse", same, f"max=2&offset=1 of {folder.path()} is another window")

    async def metadata(self) -> None:
        if self.deleted and self.rng.random() < 0.1:
            gone = self.rng.choice(self.deleted)
            await self.call("metadata", "GET", "metadata", {404}, params={"id": gone})
            return
        items: list[File | Folder] = [*self.files.values(), *self.folders]
        item = self.rng.choice(items)
        response = await self.call("metadata", "GET", "metadata", {200}, params={"id": item.id})
        if response is None:
            return
        got = response.json()
        wanted: tuple[str, str, int | None]
        if isinstance(item, File):
            size = len(item.content) if item.content is not None else 0
            wanted = (item.title, "file", size)
        else:
            wanted = (item.title, "folder", None)
        seen = (got["title"], got["kind"], got.get("size"))
        self.check("metadata", seen == wanted, f"metadata of {item.id}: {seen}, expected {wanted}")

    async def search(self) -> None:
        items: list[File | Folder] = [*self.files.values(), *self.folders[1:]]
        if not items:
            return
        item = self.rng.choice(items)
        if isinstance(item, File) and item.folder is self.shared.drop:
            return  # its name is the one every worker uploads
        token = item.title.split(" ")[-1].split(".")[0]
        query = token.upper() if self.rng.random() < 0.3 else token
        params = {"query": query}
        if self.rng.random() < 0.3:
            params["parentId"] = self.top.id
        response = await self.call("search", "GET", "search", {200}, params=params)
        if response is None:
            return
        found = {result["id"] for result in response.json()}
        listed = not isinstance(item, File) or item.content is not None
        expected = {item.id} if listed else set()
        self.check("search", found == expected, f"search {query!r}: {found}, expected {expected}")

    async def download(self) -> None:
        uploaded = self.uploaded()
        if self.rng.random() < 0.3 or not uploaded:
            file = self.rng.choice(self.shared.readonly_files)
        else:
            file = self.rng.choice(uploaded)
        assert file.content is not None
        content, size, roll = file.content, len(file.content), self.rng.random()
        params = {"id": file.id}
        if roll < 0.35:
            response = await self.call("download", "GET", "download", {200}, params=params)
            if response is not None:
                self.check("download", response.content == content, f"bytes of {file.id} differ")
                file.etag = response.headers["etag"]
        elif roll < 0.75 and size > 0:
            first = self.rng.randrange(size)
            last = self.rng.randrange(first, size)
            headers = {"Range": f"bytes={first}-{last}"}
            response = await self.call("download", "GET", "download", {206}, params=params,
                                       headers=headers)  # fmt: skip
            if response is not None:
                right = response.content == content[first : last + 1]
                self.check("download", right, f"bytes {first}-{last} of {file.id} differ")
                span = response.headers.get("content-range")
                self.check("download", span == f"bytes {first}-{last}/{size}", f"{span!r}")
        elif roll < 0.85:
            headers = {"Range": f"bytes={size}-"}
            response = await self.call("download", "GET", "download", {416}, params=params,
                                       headers=headers)  # fmt: skip
            if response is not None:
                span = response.headers.get("content-range")
                self.check("download", span == f"bytes */{size}", f"416 with {span!r}")
        elif file.etag is not None:
            headers = {"If-None-Match": file.etag}
            await self.call("download", "GET", "download", {304}, params=params, headers=headers)

    async def upload_new(self) -> None:
        in_drop = self.rng.random() < 0.2
        folder = self.shared.drop if in_drop else self.rng.choice(self.folders)
        name = DROP_NAME if in_drop else self.name()[0]
        fields = {"parentId": folder.id, "filename": name}
        as_form = self.rng.random() < 0.5
        arguments = {"data": fields} if as_form else {"params": fields}
        response = await self.call("uploadInit", "POST", "uploadInit", {200}, **arguments)
        if response is None:
            return
        item = response.json()
        self.check("uploadInit", item["size"] == 0, f"reserved {item['id']} has a size")
        if not in_drop:
            self.check("uploadInit", item["title"] == name, f"{name!r} became {item['title']!r}")
        file = File(item["id"], item["title"], folder)
        self.files[file.id] = file
        if self.rng.random() < 0.15:
            await self.call("download", "GET", "download", {404}, params={"id": file.id})
            return  # left reserved: listed nowhere, still holding its name
        await self._put(file, "upload-new")

    async def upload_replace(self) -> None:
        if self.deleted and self.rng.random() < 0.05:
            gone = self.rng.choice(self.deleted)
            await self.call("upload-replace", "PUT", "upload", {404}, params={"id": gone},
                            content=b"late")  # fmt: skip
            return
        if self.files:
            await self._put(self.rng.choice(list(self.files.values())), "upload-replace")

    async def _put(self, file: File, kind: str) -> None:
        content = self.rng.randbytes(self.size())
        if self.rng.random() < 0.25:
            body: dict[str, Any] = {"files": {"file": (file.title, content)}}
        else:
            body = {"content": content}
        response = await self.call(kind, "PUT", "upload", {200}, params={"id": file.id}, **body)
        if response is not None:
            file.content, file.etag = content, None

    async def rename(self) -> None:
        items: list[File | Folder] = [
            *(file for file in self.files.values() if file.folder is not self.shared.drop),
            *self.folders[1:],
        ]
        if not items:
            return
        item = self.rng.choice(items)
        parent = item.folder if isinstance(item, File) else item.parent
        assert parent is not None
        siblings: list[File | Folder] = [f for f in self.files.values() if f.folder is parent]
        siblings += [folder for folder in self.folders if folder.parent is parent]
        siblings = [sibling for sibling in siblings if sibling is not item]
        roll = self.rng.random()
        if roll < 0.1 and siblings:
            taken = self.rng.choice(siblings).title.upper()
            await self.call("rename", "PUT", "rename", {409}, params={"id": item.id, "name": taken})
            return
        if roll < 0.2 and item.title.isascii():
            name = item.title.swapcase()
        else:
            name = self.name(None if isinstance(item, File) else "")[0]
        response = await self.call("rename", "PUT", "rename", {200}, data={"id": item.id,
                                   "name": name})  # fmt: skip
        if response is not None:
            item.title = name

    async def delete(self) -> None:
        roll = self.rng.random()
        if roll < 0.2 and len(self.folders) > 1:
            folder = self.rng.choice(self.folders[1:])
            doomed_folders = {id(f) for f in self.folders if folder in _ancestry(f)}
            item_id = folder.id
        elif self.files:
            folder, doomed_folders = None, set()
            item_id = self.rng.choice(list(self.files))
        else:
            return
        response = await self.call("delete", "PUT", "delete", {200}, params={"id": item_id})
        if response is None:
            return
        gone = [item_id]
        if folder is not None:
            gone += [f.id for f in self.folders if id(f) in doomed_folders and f is not folder]
            gone += [f.id for f in self.files.values() if id(f.folder) in doomed_folders]
            self.folders = [f for f in self.folders if id(f) not in doomed_folders]
        for file_id in gone:
            self.files.pop(file_id, None)
        self.deleted += gone
        await self.call("delete", "GET", "metadata", {404}, params={"id": self.rng.choice(gone)})

    async def create_folder(self) -> None:
        parents = [folder for folder in self.folders if len(folder.path()) < 3]
        parent = self.rng.choice(parents)
        name = self.name("")[0]
        params = {"parentId": parent.id, "name": name}
        response = await self.call("createFolder", "POST", "createFolder", {200}, params=params)
        if response is not None:
            item = response.json()
            self.check("createFolder", item["title"] == name, f"{name!r} is {item['title']!r}")
            self.folders.append(Folder(item["id"], item["title"], parent))


def _ancestry(folder: Folder) -> list[Folder]:
    chain: list[Folder] = []
    current: Folder | None = folder
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain
