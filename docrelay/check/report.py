"""The results as a rich table with a summary line, or as JSON."""

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from docrelay.check.runner import Result

_STYLES = {"pass": "green", "fail": "bold red", "skip": "yellow"}


def summary(results: list[Result], base_api_url: str) -> str:
    counts = Counter(result.status for result in results)
    total = sum(result.ms for result in results)
    verdict = "ready to register" if not counts["fail"] else "not ready to register"
    return (
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped "
        f"in {total:.0f} ms: {base_api_url} is {verdict}"
    )


def print_table(results: list[Result], base_api_url: str, console: Console) -> None:
    table = Table("step", "result", "ms", "reason", title=f"docrelay check {base_api_url}")
    for result in results:
        status = Text(result.status, style=_STYLES[result.status])
        table.add_row(result.title, status, f"{result.ms:.0f}", result.reason)
    console.print(table)
    failed = any(result.status == "fail" for result in results)
    console.print(summary(results, base_api_url), style="bold red" if failed else "bold green")


def as_json(results: list[Result], base_api_url: str, auth: str, write: bool) -> dict[str, Any]:
    counts = Counter(result.status for result in results)
    return {
        "baseApiUrl": base_api_url,
        "auth": auth,
        "write": write,
        "ok": not counts["fail"],
        "summary": {
            "pass": counts["pass"],
            "fail": counts["fail"],
            "skip": counts["skip"],
            "ms": round(sum(result.ms for result in results), 1),
        },
        "steps": [
            {
                "step": result.key,
                "title": result.title,
                "status": result.status,
                "ms": round(result.ms, 1),
                "reason": result.reason,
            }
            for result in results
        ],
    }
