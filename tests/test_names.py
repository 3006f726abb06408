"""SPEC.md §6 names, the conflict numbering, folding and natural order."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docrelay.errors import InvalidName
from docrelay.names import check_name, folded, name_key, natural_key, numbered_names


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "a/b",
        "a\\b",
        "nul\x00",
        "cr\r",
        "del\x7f",
        "c1\x85",
        "rlo\u202e.exe",
        "lri\u2066",
        "dot.",
        "space ",
        "CON",
        "con.txt",
        "NUL.tar.gz",
        "com0",
        "LPT9.log",
        "x" * 256,
        "\u00e9" * 128,
        ".~docrelay-abc",
    ],
)
def test_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        check_name(name)


@pytest.mark.parametrize(
    "name", ["a;b.txt", 'q"d.txt', "100% done", ".hidden", "x" * 255, "COM10.txt", "console.log"]
)
def test_accepted(name: str) -> None:
    assert check_name(name) == name


def test_store_specific_characters_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidName, match=r"\? \|"):
        check_name("what|now?.txt", refused_chars='<>:"|?*')


def test_names_are_stored_nfc_and_measured_after_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "\u00e9" * 127)
    assert len(decomposed.encode()) > 255
    assert check_name(decomposed) == "\u00e9" * 127


def test_conflict_key_folds_case_and_normal_form() -> None:
    assert name_key("Crème.TXT") == name_key(unicodedata.normalize("NFD", "crème.txt"))
    assert name_key("Straße") == name_key("STRASSE")


def _first(name: str, count: int, is_folder: bool = False) -> list[str]:
    names = numbered_names(name, is_folder)
    return [next(names) for _ in range(count)]


def test_numbering() -> None:
    assert _first("plan.pdf", 3) == ["plan.pdf", "plan (1).pdf", "plan (2).pdf"]
    assert _first(".env", 2) == [".env", ".env (1)"]
    assert _first("archive.tar.gz", 2)[1] == "archive.tar (1).gz"
    assert _first("v1.2", 2, is_folder=True)[1] == "v1.2 (1)"


@given(st.text(min_size=1, max_size=300), st.integers(min_value=1, max_value=120))
def test_numbered_names_stay_within_255_bytes(stem: str, number: int) -> None:
    names = numbered_names(stem[:200] + ".txt", False)
    for _ in range(number):
        candidate = next(names)
    assert len(candidate.encode()) <= 255 or candidate == stem[:200] + ".txt"


def test_natural_order() -> None:
    names = ["file-10.txt", "File-1.txt", "file-2.txt", "file-100.txt", "file-02.txt", "b", "A"]
    ordered = sorted(names, key=lambda name: (natural_key(name), name))
    assert ordered == [
        "A",
        "b",
        "File-1.txt",
        "file-02.txt",
        "file-2.txt",
        "file-10.txt",
        "file-100.txt",
    ]


def test_search_form_collapses_white_space() -> None:
    assert folded("  Budget\t 2026  Q1 ") == "budget 2026 q1"
