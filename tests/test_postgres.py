"""What only PostgreSQL can get wrong: migrating, search, code-point order, locks.

These run on every suite: against ``DOCRELAY_TEST_DATABASE_URL`` when it is set, else
against PostgreSQL at 127.0.0.1:5432 if it answers (skipped when it does not, unless
``CI`` is ``true``). The run's database sorts by ICU ``en-US``, not by code point (see
pgdb.py), so a missing ``COLLATE "C"`` shows.
"""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pgdb
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from conftest import Workfront, make_settings
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from docrelay.app import build_services, create_app
from docrelay.catalog.catalog import Catalog
from docrelay.catalog.db import MIGRATIONS, CatalogSetupError, Database, catalog_url
from docrelay.catalog.items import PRESENT, name_columns
from docrelay.catalog.schema import items
from docrelay.catalog.search import like_literal, search_statement
from docrelay.store import open_store


@pytest.fixture(scope="module")
def schemas() -> Iterator[pgdb.Schemas]:
    if pgdb._active is not None:  # the whole suite is on PostgreSQL
        yield pgdb._active
        return
    url = pgdb.configured_url() or pgdb.DEFAULT_URL
    reason = pgdb.unreachable(url)
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI runs these tests", pytrace=False)
        pytest.skip(reason)
    own = pgdb.Schemas(url)
    own.watch_databases()
    yield own
    own.close()


@pytest.fixture
def pg(schemas: pgdb.Schemas) -> Iterator[pgdb.Schemas]:
    if schemas is pgdb._active:  # conftest already runs each test in its own schemas
        yield schemas
        return
    with schemas.test():
        yield schemas


def _catalog(url: str, root: Path) -> Catalog:
    catalog = Catalog(Database(url), open_store(str(root)))
    catalog.open()
    return catalog


# --- migrating ------------------------------------------------------------------------


def test_migrating_an_empty_schema_makes_the_catalog(pg: pgdb.Schemas, tmp_path: Path) -> None:
    url = pg.empty_url()
    database = Database(url)
    database.migrate()
    database.migrate()  # a second time: nothing to do
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with database.read() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        index = connection.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname = 'ix_items_folded_trigrams'"
            )
        ).scalar_one()
        collations = dict(
            connection.execute(
                text(
                    "SELECT column_name, collation_name FROM information_schema.columns "
                    "WHERE table_name = 'items' AND table_schema = current_schema()"
                )
            ).all()
        )
    assert "USING gin (folded public.gin_trgm_ops)" in index
    assert "WHERE ((state)::text = 'present'::text)" in index
    assert {collations[name] for name in ("id", "title", "natural", "ancestry")} == {"C"}
    catalog = Catalog(database, open_store(str(tmp_path / "documents")))
    catalog.open()
    catalog.open()  # the root exists once
    created = catalog.create_folder("/", "First", "rename")
    assert created.pk == 2 and catalog.item(created.id).title == "First"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def test_instances_starting_at_once_share_one_catalog(pg: pgdb.Schemas, tmp_path: Path) -> None:
    url = pg.empty_url()
    settings = make_settings(tmp_path, database_url=url)
    secrets: list[bytes] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def instance() -> None:
        start.wait()
        try:
            services = build_services(settings)
            secrets.append(services.links.signature("view", "x").encode())
            services.catalog.db.dispose()
        except BaseException as error:
            errors.append(error)

    _run_threads(instance, 4)
    assert errors == []
    assert len(set(secrets)) == 1  # one link secret, kept by the first
    database = Database(url)
    with database.read() as connection:
        assert connection.execute(select(func.count()).select_from(items)).scalar() == 1


def test_a_missing_pg_trgm_that_cannot_be_made_stops_the_migration(pg: pgdb.Schemas) -> None:
    admin = create_engine(pg.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    suffix = os.urandom(4).hex()
    database, role = f"docrelay_notrgm_{suffix}", f"docrelay_plain_{suffix}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    except DBAPIError as error:
        pytest.skip(f"no right to make a role here ({error.orig})")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {database} TEMPLATE template0"))
        with create_engine(
            pg.url.set(database=database), poolclass=NullPool, isolation_level="AUTOCOMMIT"
        ).connect() as connection:
            connection.execute(text(f"CREATE SCHEMA catalog AUTHORIZATION {role}"))
        url = pg.url.set(database=database, username=role).update_query_dict(
            {"options": "-csearch_path=catalog"}
        )
        plain = Database(url.render_as_string(hide_password=False))
        with pytest.raises(CatalogSetupError, match="CREATE EXTENSION pg_trgm"):
            plain.migrate()
        plain.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))


def test_a_postgresql_url_without_a_driver_means_psycopg() -> None:
    url = catalog_url("postgresql://docrelay@db.example/catalog")
    assert url.drivername == "postgresql+psycopg"
    assert catalog_url("sqlite:///x.sqlite3").drivername == "sqlite"
    with pytest.raises(CatalogSetupError, match="psycopg 3"):
        Database("postgresql+psycopg2://docrelay@db.example/catalog")


# --- search and order: the same answers as on SQLite ------------------------------------

NAMES = {
    "report.pdf": 5,
    "Report": 4,  # a folder
    "report 2024.xlsx": 9,
    "annual report.pdf": 8,
    "50% off.txt": 1,
    "50 off.txt": 1,
    "a_b.txt": 1,
    "axb.txt": 1,
    "back\\slash.txt": 1,
    "backslash.txt": 1,
    "file-10.txt": 2,
    "file-2.txt": 2,
    "File-2.txt": 2,
    "file-02.txt": 2,
    "file_2.txt": 2,
    "filé.txt": 2,
}
QUERIES = ["report", "REPORT.PDF", "50%", "%", "_", "a_b", "k\\s", "\\", "file", "f 2", "é"]


def _answers(tmp_path: Path, database_url: str | None) -> dict[str, list[str]]:
    settings = make_settings(tmp_path, database_url=database_url)
    root = Path(settings.root)
    root.mkdir(parents=True, exist_ok=True)
    for name, minutes in NAMES.items():
        path = root / name
        if name == "Report":
            path.mkdir()
        else:
            path.write_bytes(name.encode())
        os.utime(path, (1_700_000_000 + minutes * 60, 1_700_000_000 + minutes * 60))
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, root)
        wf.files("/")  # catalogue what is in the store
        return {query: [item["title"] for item in wf.search(query)] for query in QUERIES}


def test_search_ranks_and_matches_literally_as_on_sqlite(pg: pgdb.Schemas, tmp_path: Path) -> None:
    on_postgres = _answers(tmp_path / "pg", pg.url_for(tmp_path / "pg" / "data"))
    on_sqlite = _answers(tmp_path / "sqlite", f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    assert on_postgres == on_sqlite
    assert on_postgres["report"] == [
        "report.pdf",  # equal without its extension, newer than the folder
        "Report",
        "report 2024.xlsx",  # starts with the query
        "annual report.pdf",
    ]
    assert on_postgres["REPORT.PDF"] == ["report.pdf", "annual report.pdf"]
    assert on_postgres["50%"] == ["50% off.txt"]
    assert on_postgres["%"] == ["50% off.txt"]
    assert on_postgres["_"] == ["file_2.txt", "a_b.txt"]  # newer first
    assert on_postgres["a_b"] == ["a_b.txt"]
    assert on_postgres["k\\s"] == on_postgres["\\"] == ["back\\slash.txt"]
    assert on_postgres["é"] == ["filé.txt"]


def test_ties_in_natural_order_go_by_code_point(pg: pgdb.Schemas, tmp_path: Path) -> None:
    on_postgres = _answers(tmp_path / "pg", pg.url_for(tmp_path / "pg" / "data"))
    # same rank, same time: natural order (digits by value), then the title by code point
    # ('-' < '_', 'F' < 'f', '0' < '2'), where en-US would put 'file_2' and 'file-2' first
    expected = ["File-2.txt", "file-02.txt", "file-2.txt", "file-10.txt", "file_2.txt"]
    assert on_postgres["file"] == expected
    assert on_postgres["f 2"] == [name for name in expected if "2" in name]


def test_words_of_three_characters_or_more_use_the_trigram_index(
    pg: pgdb.Schemas, tmp_path: Path
) -> None:
    catalog = _catalog(pg.url_for(tmp_path / "data"), tmp_path / "documents")
    with catalog.db.write() as connection:
        connection.execute(insert(items), [_row(number) for number in range(3000)])
    with catalog.db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM (ANALYZE) items"
        )
    plans = {}
    with catalog.db.read() as connection:
        for query in ("00042", "50% off", "report 0004", "7", "ab"):
            statement = search_statement("postgresql", query)
            assert statement is not None
            compiled = statement.compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
            rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
            plans[query] = "\n".join(row[0] for row in rows)
    for query in ("00042", "50% off", "report 0004"):
        assert "ix_items_folded_trigrams" in plans[query], plans[query]
    for query in ("7", "ab"):  # no trigram in the query: the names are scanned
        assert "Seq Scan on items" in plans[query], plans[query]


def _row(number: int) -> dict[str, Any]:
    name = f"{['minutes', 'invoice', 'report'][number % 3]} {number:05d}.pdf"
    return {
        "id": f"bulk{number}",
        "parent_pk": 1,
        "kind": "file",
        "state": PRESENT,
        "size": 1,
        "mtime_ms": number,
        "ancestry": "/1/",
        "created_at": 0.0,
        "changed_at": 0.0,
        **name_columns(name, "file"),
    }


def test_a_nul_in_any_value_is_no_failure(pg: pgdb.Schemas, tmp_path: Path) -> None:
    # PostgreSQL's text cannot hold U+0000; SQLite's can
    settings = make_settings(tmp_path, database_url=pg.url_for(tmp_path / "data"))
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        item = wf.upload("/", "a.txt", b"x")
        assert wf.get("metadata", params={"id": item["id"] + "\x00"}).status_code == 404
        assert wf.search("a\x00") == [] and wf.search("a")[0]["id"] == item["id"]
        params = {"parentId": "/", "filename": "b.txt", "documentId": "wf\x00id"}
        assert wf.ok("POST", "uploadInit", params=params)["title"] == "b.txt"


def test_like_literal_escapes_every_wildcard() -> None:
    assert like_literal("50%_\\x") == "50\\%\\_\\\\x"


# --- concurrency: what SQLite's one writer gave for free --------------------------------


def _run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)


def test_writers_reserving_one_name_at_once_get_distinct_names(
    pg: pgdb.Schemas, tmp_path: Path
) -> None:
    url = pg.url_for(tmp_path / "data")
    root = tmp_path / "documents"
    _catalog(url, root)
    instances = [_catalog(url, root) for _ in range(6)]  # as if on six servers
    titles: list[str] = []
    start = threading.Barrier(len(instances))

    def reserve(catalog: Catalog) -> None:
        start.wait()
        titles.append(catalog.reserve("/", "brief.docx", "rename").title)

    threads = [threading.Thread(target=reserve, args=(catalog,)) for catalog in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(titles) == sorted(["brief.docx", *(f"brief ({n}).docx" for n in range(1, 6))])


def test_listing_while_writing_never_catalogues_an_item_twice(
    pg: pgdb.Schemas, tmp_path: Path
) -> None:
    url = pg.url_for(tmp_path / "data")
    root = tmp_path / "documents"
    writer, lister = _catalog(url, root), _catalog(url, root)
    made: list[Any] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for number in range(40):
                made.append(writer.create_folder("/", f"folder {number}", "rename"))
                (root / f"outside {number}.txt").write_bytes(b"x")  # behind docrelay's back
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    def list_root() -> None:
        try:
            while not done.is_set():
                lister.children("/")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write), threading.Thread(target=list_root)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    listed = lister.children("/")
    assert sorted(item.title for item in listed) == sorted(
        [f"folder {n}" for n in range(40)] + [f"outside {n}.txt" for n in range(40)]
    )
    for item in made:  # every id the writer was given still names its folder
        assert lister.item(item.id).title == item.title
    with Database(url).read() as connection:
        present = connection.execute(
            select(items.c.name_raw, func.count())
            .where(items.c.state == PRESENT, items.c.parent_pk == 1)
            .group_by(items.c.name_raw)
            .having(func.count() > 1)
        ).all()
    assert present == []


def test_the_run_database_does_not_sort_by_code_point(pg: pgdb.Schemas) -> None:
    if pg.database is None:
        pytest.skip("no right to create a database: the given one is used as it is")
    engine = create_engine(pg.url, poolclass=NullPool)
    with engine.connect() as connection:
        ordered = connection.execute(
            text("SELECT x FROM (VALUES ('file-2'), ('File-2'), ('file_2')) AS t(x) ORDER BY x")
        ).scalars()
        assert list(ordered) != ["File-2", "file-2", "file_2"]
    assert make_url(pg.schema_url("s")).query["application_name"] == "s"
