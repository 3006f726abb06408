"""Search finds exactly the names that hold every word (SPEC.md §4, search).

The index is only a first sieve (docrelay/catalog/search.py): names that hold a few
trigrams of a word but not the word must not be answered. The expected answers are
computed here from the names alone, with Python's ``in``.
"""

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.names import folded


@pytest.fixture
def wf(tmp_path: Path) -> Iterator[Workfront]:
    settings = make_settings(tmp_path)
    Path(settings.root).mkdir(parents=True)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        yield Workfront(client, Path(settings.root))


def found(wf: Workfront, query: str) -> set[str]:
    return {item["title"] for item in wf.search(query, max=1000)}


def test_trigrams_of_a_word_apart_are_not_the_word(wf: Workfront) -> None:
    names = [
        "proposal.pdf",
        "pro pos sal.pdf",  # every trigram the index is asked for, but not the word
        "salpospro.pdf",
        "PROPOSAL final.docx",
        "aaaaaaa.txt",
        "aaaaaa.txt",  # one a short: 'aaa' as often as you like, not 'aaaaaaa'
    ]
    for name in names:
        (wf.root / name).write_bytes(b"x")
    wf.files("/")
    assert found(wf, "proposal") == {"proposal.pdf", "PROPOSAL final.docx"}
    assert found(wf, "aaaaaaa") == {"aaaaaaa.txt"}
    assert found(wf, "pos sal") == {
        "pro pos sal.pdf",
        "salpospro.pdf",
        "proposal.pdf",
        "PROPOSAL final.docx",
    }


def test_search_answers_what_a_scan_of_the_names_answers(wf: Workfront) -> None:
    rng = random.Random(3)
    alphabet = "abcab "  # few letters: many names share trigrams without sharing words
    names = set()
    while len(names) < 300:
        names.add("".join(rng.choice(alphabet) for _ in range(rng.randrange(4, 14))).strip())
    names.discard("")
    for name in names:
        (wf.root / f"{name}.txt").write_bytes(b"x")
    wf.files("/")
    titles = [f"{name}.txt" for name in names]
    for _ in range(60):
        query = " ".join(
            "".join(rng.choice("abc") for _ in range(rng.randrange(1, 7)))
            for _ in range(rng.randrange(1, 3))
        )
        words = folded(query).split()
        expected = {title for title in titles if all(word in folded(title) for word in words)}
        assert found(wf, query) == expected, query
