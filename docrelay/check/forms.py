"""The forms of docrelay's sign-in and consent pages, read as a browser reads them."""

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_ALERT = re.compile(r'role="alert"[^>]*>(.*?)<', re.S)
_ERROR = re.compile(r"<h1>(.*?)</h1>\s*<p>(.*?)</p>", re.S)


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)

    @property
    def asks_password(self) -> bool:
        return "password" in self.fields


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            self._open = Form(values.get("action", ""))
            self.forms.append(self._open)
        elif self._open is not None and tag == "input" and values.get("name"):
            self._open.fields[values["name"]] = values.get("value", "")
        elif self._open is not None and tag == "button" and values.get("name"):
            self._open.buttons.setdefault(values["name"], []).append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def post_forms(page: str) -> list[Form]:
    parser = _Parser()
    parser.feed(page)
    parser.close()
    return parser.forms


def page_message(page: str) -> str:
    """What a page tells its reader: an alert, or an error page's title and sentence."""
    found = _ALERT.search(page)
    if found:
        return " ".join(html.unescape(found.group(1)).split())
    found = _ERROR.search(page)
    if found:
        return " ".join(html.unescape(f"{found.group(1)}: {found.group(2)}").split())
    return "the page gave no reason"
