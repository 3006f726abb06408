"""Search by name: every word of the query, literal, folded; best matches first.

On SQLite the names of present items are in an FTS5 table with the trigram
tokenizer, so a word of three or more characters is found through the index, never by
walking rows. Words shorter than three characters filter the rows the longer words
found; a query made only of such short words has no trigram to use and scans the
names of present items (a known cost at very large catalogs).
"""

from sqlalchemy import Connection, Select, case, func, select, text

from docrelay.catalog.items import PRESENT, Item
from docrelay.catalog.schema import items
from docrelay.names import folded

DEFAULT_LIMIT = 200
_TRIGRAM = 3


def query_words(query: str | None) -> tuple[str, list[str]]:
    """The folded query and its words; no words for an empty or white-space query."""
    whole = folded(query or "")
    return whole, [word for word in whole.split(" ") if word]


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def search(
    connection: Connection,
    query: str | None,
    *,
    within: Item | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Item]:
    whole, words = query_words(query)
    if not words:
        return []
    statement = _ranked(select(items), whole)
    statement = statement.where(items.c.state == PRESENT)
    long_words = [word for word in words if len(word) >= _TRIGRAM]
    if long_words and connection.dialect.name == "sqlite":
        match = " ".join(_phrase(word) for word in long_words)
        indexed = text("SELECT rowid FROM item_names WHERE item_names MATCH :match")
        statement = statement.where(
            items.c.pk.in_(indexed.bindparams(match=match).columns(rowid=items.c.pk.type))
        )
        words = [word for word in words if len(word) < _TRIGRAM]
    for word in words:
        statement = statement.where(func.instr(items.c.folded, word) > 0)
    if within is not None and not within.is_root:
        prefix = within.child_ancestry
        statement = statement.where(func.substr(items.c.ancestry, 1, len(prefix)) == prefix)
    statement = statement.limit(DEFAULT_LIMIT if limit is None else limit).offset(offset)
    return [Item.from_row(row) for row in connection.execute(statement)]


def _ranked(statement: Select[tuple[object, ...]], whole: str) -> Select[tuple[object, ...]]:
    rank = case(
        ((items.c.folded == whole) | (items.c.stem_folded == whole), 0),
        (func.substr(items.c.folded, 1, len(whole)) == whole, 1),
        else_=2,
    )
    return statement.order_by(
        rank, items.c.mtime_ms.desc(), items.c.natural, items.c.title, items.c.id
    ).where(items.c.id != "/")
