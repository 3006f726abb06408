"""Search by name: every word of the query, literal, folded; best matches first.

Both engines find a word of three or more characters through an index of trigrams,
never by walking rows. On SQLite the folded names of present items are in an FTS5 table
with the trigram tokenizer; on PostgreSQL a partial GIN index (pg_trgm) over the same
column answers ``folded LIKE '%word%'``, with ``%``, ``_`` and ``\\`` of the word
escaped. A word shorter than three characters has no trigram: it filters the rows the
longer words found (pg_trgm skips such a word in the index scan and rechecks it), and a
query made only of short words scans the names of present items on both engines (a
known cost at very large catalogs: about 0.3 s at a million items in bench/search.py,
against about 7 ms for words the index answers).
"""

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Select, case, func, literal, select, text

from docrelay.catalog.items import PRESENT, Item
from docrelay.catalog.schema import items
from docrelay.errors import BadRequest
from docrelay.names import folded

DEFAULT_LIMIT = 200
MAX_WORDS = 32  # each word is a condition; SQLite refuses a query a thousand deep
_TRIGRAM = 3


def query_words(query: str | None) -> tuple[str, list[str]]:
    """The folded query and its words; no words for an empty or white-space query."""
    whole = folded(query or "")
    return whole, list(dict.fromkeys(word for word in whole.split(" ") if word))


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def search(
    connection: Connection,
    query: str | None,
    *,
    within: Item | None = None,
    hidden: Sequence[tuple[int, str]] = (),
    limit: int | None = None,
    offset: int = 0,
) -> list[Item]:
    statement = search_statement(
        connection.dialect.name, query, within=within, hidden=hidden, limit=limit, offset=offset
    )
    if statement is None:
        return []
    return Item.from_rows(connection.execute(statement).all())


def search_statement(
    dialect: str,
    query: str | None,
    *,
    within: Item | None = None,
    hidden: Sequence[tuple[int, str]] = (),
    limit: int | None = None,
    offset: int = 0,
) -> Select[tuple[object, ...]] | None:
    """The query ``search`` runs on the ``dialect`` (``sqlite``, ``postgresql``); None when
    the query has no words."""
    whole, words = query_words(query)
    if len(words) > MAX_WORDS:
        raise BadRequest(f"The query has more than {MAX_WORDS} different words.")
    if not words or "\x00" in whole:  # no name holds U+0000 (SPEC §6, and no file system)
        return None
    statement = _ranked(select(items), whole)
    # inline, so that the planner always matches PostgreSQL's partial index on it
    statement = statement.where(items.c.state == literal(PRESENT, literal_execute=True))
    statement = statement.where(*_matching(dialect, words))
    if within is not None and not within.is_root:
        prefix = within.child_ancestry
        statement = statement.where(func.substr(items.c.ancestry, 1, len(prefix)) == prefix)
    for pk, prefix in hidden:  # roots the acting user may not see
        statement = statement.where(
            items.c.pk != pk, func.substr(items.c.ancestry, 1, len(prefix)) != prefix
        )
    return statement.limit(DEFAULT_LIMIT if limit is None else limit).offset(offset)


def _matching(dialect: str, words: list[str]) -> list[ColumnElement[bool]]:
    """The conditions a name must meet to contain every word."""
    if dialect != "sqlite":
        return [items.c.folded.like(f"%{like_literal(word)}%", escape="\\") for word in words]
    clauses: list[ColumnElement[bool]] = []
    long_words = [word for word in words if len(word) >= _TRIGRAM]
    if long_words:
        # Every trigram of a word is in a name that holds the word, so names with a few of
        # them that cover the word are a superset, which the index finds about twice as
        # fast as the word as a phrase of all its trigrams; instr then keeps the names
        # that hold the word itself.
        match = " AND ".join(_phrase(part) for word in long_words for part in _cover(word))
        indexed = text("SELECT rowid FROM item_names WHERE item_names MATCH :match")
        clauses.append(
            items.c.pk.in_(indexed.bindparams(match=match).columns(rowid=items.c.pk.type))
        )
    clauses.extend(func.instr(items.c.folded, word) > 0 for word in words)
    return clauses


def _cover(word: str) -> list[str]:
    """Trigrams of ``word`` that together cover each of its characters: those at
    0, 3, 6, … and the last one."""
    starts = list(range(0, len(word) - _TRIGRAM + 1, _TRIGRAM))
    if starts[-1] != len(word) - _TRIGRAM:
        starts.append(len(word) - _TRIGRAM)
    return list(dict.fromkeys(word[start : start + _TRIGRAM] for start in starts))


def like_literal(value: str) -> str:
    """``value`` for a LIKE pattern with the escape character ``\\``: matches itself only."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ranked(statement: Select[tuple[object, ...]], whole: str) -> Select[tuple[object, ...]]:
    rank = case(
        ((items.c.folded == whole) | (items.c.stem_folded == whole), 0),
        (func.substr(items.c.folded, 1, len(whole)) == whole, 1),
        else_=2,
    )
    return statement.order_by(
        rank, items.c.mtime_ms.desc(), items.c.natural, items.c.title, items.c.id
    ).where(items.c.id != "/")
