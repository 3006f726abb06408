"""/metrics (Prometheus, a registry per app), /healthz and /readyz."""

import io
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import API_KEY, Workfront, make_settings
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.errors import StoreUnavailable

TOKEN = "scrape-token-0123456789"


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, frozenset[Any]], float]:
    """Every sample of /metrics, by name and labels."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def png(width: int = 300, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def uncached(wf: Workfront) -> Workfront:
    """The catalog's numbers read at every scrape, not every five seconds."""
    wf.client.app.state.metrics.scraped.cache_seconds = 0  # type: ignore[attr-defined]
    return wf


def test_two_downloads_of_1000_bytes_count_2000_bytes_out(wf: Workfront) -> None:
    item = wf.upload("/", "a.bin", b"x" * 1000)
    before = scrape(wf.client)
    for _ in range(2):
        assert wf.get("download", params={"id": item["id"]}).content == b"x" * 1000
    after = scrape(wf.client)
    sent = "docrelay_download_bytes_total"
    grown = value(after, sent, endpoint="download") - value(before, sent, endpoint="download")
    assert grown == 2000
    assert value(after, "docrelay_requests_total", endpoint="download", status="200") == 2
    timed = "docrelay_request_duration_seconds_count"
    assert value(after, timed, endpoint="download", status="200") == 2
    assert value(after, "docrelay_upload_bytes_total", endpoint="upload") == 1000


def test_a_range_counts_what_was_sent_and_an_error_counts_no_content(wf: Workfront) -> None:
    item = wf.upload("/", "a.bin", b"x" * 1000)
    part = wf.get("download", params={"id": item["id"]}, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert wf.get("download", params={"id": "no-such-id"}).status_code == 404
    samples = scrape(wf.client)
    assert value(samples, "docrelay_download_bytes_total", endpoint="download") == 100
    assert value(samples, "docrelay_requests_total", endpoint="download", status="404") == 1


def test_endpoints_are_labelled_by_name_never_by_path(wf: Workfront) -> None:
    item = wf.upload("/", "a.txt", b"hello")
    wf.files("/")
    wf.call("GET", "/metadata", params={"id": item["id"]})  # a doubled slash: /api//metadata
    wf.get("noSuchEndpoint")
    assert wf.client.get(item["downloadLink"]).content == b"hello"
    assert wf.client.get(item["viewLink"]).status_code == 200
    wf.client.get(f"/download/{item['id']}x?sig=bad")
    wf.client.get("/no/such/page")
    samples = scrape(wf.client)
    labels = {
        dict(labels)["endpoint"] for name, labels in samples if name == "docrelay_requests_total"
    }
    assert {"uploadInit", "upload", "files", "metadata", "unknown"} <= labels
    assert {"download_link", "view", "other"} <= labels
    assert not any(item["id"] in label or "/" in label for label in labels)
    assert value(samples, "docrelay_requests_total", endpoint="download_link", status="404") == 1
    assert value(samples, "docrelay_download_bytes_total", endpoint="download_link") == 5


def test_a_second_identical_thumbnail_is_a_cache_hit(wf: Workfront) -> None:
    item = wf.upload("/", "photo.png", png())
    for _ in range(2):
        answer = wf.get("thumbnail", params={"id": item["id"], "size": "64"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/")
    samples = scrape(wf.client)
    assert value(samples, "docrelay_thumbnail_cache_misses_total") == 1
    assert value(samples, "docrelay_thumbnail_cache_hits_total") == 1


def test_catalog_size_and_crawl(uncached: Workfront) -> None:
    wf = uncached
    samples = scrape(wf.client)
    assert value(samples, "docrelay_catalog_items") == 1  # the root
    assert ("docrelay_crawl_lag_seconds", frozenset()) not in samples  # no crawl yet
    wf.upload("/", "one.txt", b"1")
    folder = wf.folder("/", "Folder")
    (wf.root / "Folder" / "dropped.txt").write_bytes(b"behind docrelay's back")
    wf.client.app.state.crawler.crawl()  # type: ignore[attr-defined]
    samples = scrape(wf.client)
    assert value(samples, "docrelay_catalog_items") == 4
    assert 0 <= value(samples, "docrelay_crawl_lag_seconds") < 5
    assert 0 <= value(samples, "docrelay_crawl_duration_seconds") < 5
    finished = value(samples, "docrelay_crawl_last_completed_timestamp_seconds")
    assert abs(finished - time.time()) < 5
    assert folder["id"]


def test_catalog_size_is_cached_between_scrapes(wf: Workfront) -> None:
    wf.client.app.state.metrics.scraped.cache_seconds = 3600  # type: ignore[attr-defined]
    assert value(scrape(wf.client), "docrelay_catalog_items") == 1
    wf.upload("/", "one.txt", b"1")
    assert value(scrape(wf.client), "docrelay_catalog_items") == 1


def test_store_errors_by_kind(wf: Workfront) -> None:
    item = wf.upload("/", "gone.txt", b"1")
    (wf.root / "gone.txt").unlink()
    assert wf.get("download", params={"id": item["id"]}).status_code == 404
    samples = scrape(wf.client)
    assert value(samples, "docrelay_store_errors_total", root="", kind="not_found") >= 1
    assert value(samples, "docrelay_store_errors_total", root="", kind="unreachable") == 0
    shutil.rmtree(wf.root)
    assert wf.client.get("/readyz").status_code == 503
    samples = scrape(wf.client)
    assert value(samples, "docrelay_store_errors_total", root="", kind="unreachable") == 1


def test_a_taken_name_is_no_store_error(wf: Workfront) -> None:
    wf.folder("/", "Same")
    wf.folder("/", "Same")  # renamed to "Same (1)": the store said the name was taken
    samples = scrape(wf.client)
    assert all(
        count == 0 for (name, _), count in samples.items() if name == "docrelay_store_errors_total"
    )


def test_each_app_counts_in_its_own_registry(tmp_path: Path) -> None:
    first = make_settings(tmp_path / "one")
    second = make_settings(tmp_path / "two")
    with (
        TestClient(create_app(first), base_url="http://docrelay.test") as one,
        TestClient(create_app(second), base_url="http://docrelay.test") as two,
    ):
        for _ in range(3):
            one.get("/healthz")
        two.get("/healthz")
        assert value(scrape(one), "docrelay_requests_total", endpoint="healthz", status="200") == 3
        assert value(scrape(two), "docrelay_requests_total", endpoint="healthz", status="200") == 1


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, metrics_token=TOKEN)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        yield client


def test_the_metrics_token_is_required_when_set(guarded: TestClient) -> None:
    assert guarded.get("/metrics").status_code == 401
    wrong = guarded.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in wrong.text
    basic = guarded.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    samples = scrape(guarded, Authorization=f"Bearer {TOKEN}")
    assert value(samples, "docrelay_requests_total", endpoint="metrics", status="401") == 3


def test_the_api_key_does_not_open_metrics(guarded: TestClient) -> None:
    response = guarded.get("/metrics", headers={"apiKey": API_KEY, "username": "ada"})
    assert response.status_code == 401


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, metrics=False)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").json() == {"status": "ok"}


# --- /healthz and /readyz ------------------------------------------------------------------


def test_ready_when_the_catalog_and_the_store_answer(wf: Workfront) -> None:
    response = wf.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"catalog": "ok", "store": "ok"}}


def test_unready_without_the_store_but_still_alive(wf: Workfront) -> None:
    shutil.rmtree(wf.root)
    response = wf.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert body["checks"]["catalog"] == "ok"
    assert body["checks"]["store"].startswith("unreachable: ")
    assert wf.client.get("/healthz").json() == {"status": "ok"}
    wf.root.mkdir()
    assert wf.client.get("/readyz").status_code == 200


def test_each_root_is_checked(tmp_path: Path) -> None:
    marketing, archive = tmp_path / "marketing", tmp_path / "archive"
    marketing.mkdir()
    archive.mkdir()
    roots = [{"name": "Marketing", "url": str(marketing)}, {"name": "Archive", "url": str(archive)}]
    settings = make_settings(tmp_path, roots=roots)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        assert client.get("/readyz").json()["checks"] == {
            "catalog": "ok",
            "store:Marketing": "ok",
            "store:Archive": "ok",
        }
        archive.rmdir()
        response = client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["store:Marketing"] == "ok"
        assert checks["store:Archive"].startswith("unreachable: ")
        samples = scrape(client)
        errors = "docrelay_store_errors_total"
        assert value(samples, errors, root="Archive", kind="unreachable") == 1
        assert value(samples, errors, root="Marketing", kind="unreachable") == 0


def test_a_hanging_store_costs_the_timeout_and_one_thread(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, readiness_timeout=0.2)
    release = threading.Event()
    calls = []

    def hang() -> None:
        calls.append(1)
        release.wait(10)

    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        client.app.state.services.store.check = hang  # type: ignore[attr-defined]
        try:
            started = time.monotonic()
            for _ in range(2):
                response = client.get("/readyz")
                assert response.status_code == 503
                reason = response.json()["checks"]["store"]
                assert reason == "unreachable: no answer within 0.2 s"
            assert time.monotonic() - started < 3
            assert calls == [1]  # the second probe waited for the check still running
        finally:
            release.set()
        deadline = time.monotonic() + 5
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/readyz").status_code == 200


def test_a_reason_never_shows_a_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, root_options={"password": "hunter2-hunter2"})
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:

        def leaky() -> None:
            raise StoreUnavailable(f"cannot log in with {API_KEY} or hunter2-hunter2")

        def library_error() -> None:
            raise RuntimeError(f"https://user:{API_KEY}@store.example/")

        client.app.state.services.store.check = leaky  # type: ignore[attr-defined]
        first = client.get("/readyz").text
        client.app.state.services.store.check = library_error  # type: ignore[attr-defined]
        second = client.get("/readyz")
        assert second.json()["checks"]["store"] == "other: RuntimeError"
        for text in (first, second.text):
            assert API_KEY not in text and "hunter2" not in text
        assert "***" in first
