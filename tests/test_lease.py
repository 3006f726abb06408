"""The crawler's lease: one instance at a time, taken over when its holder stops."""

import time
from pathlib import Path

import pytest

from docrelay.catalog.db import Database
from docrelay.catalog.lease import Lease


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    db.migrate()
    return db


def test_one_holder_at_a_time(database: Database) -> None:
    first, second = Lease(database, "crawler", 60), Lease(database, "crawler", 60)
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewal


def test_a_released_or_expired_lease_is_taken_over(database: Database) -> None:
    first, second = Lease(database, "crawler", 60), Lease(database, "crawler", 60)
    assert first.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()
    short = Lease(database, "other", 0.01)
    assert short.acquire()
    time.sleep(0.05)
    later = Lease(database, "other", 60)
    assert later.acquire()  # the short lease has expired


def test_leases_of_different_names_are_independent(database: Database) -> None:
    assert Lease(database, "a", 60).acquire()
    assert Lease(database, "b", 60).acquire()
