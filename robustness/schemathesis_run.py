"""schemathesis against a real ``docrelay serve``: no server error, no schema violation.

    scripts/robustness-schemathesis [--quick] [--max-examples N] [--seed N] [--on-conflict fail]

Starts docrelay on 127.0.0.1 (a free port, a temporary root, an API key, a 1 MiB upload
limit so that 413 is reachable), creates folders, files, a pending reservation and a file
with a Workfront document id through the API, fetches ``/openapi.json`` and adds those
real ids to it as parameter examples, then runs schemathesis's phases (examples, coverage,
fuzzing, and stateful through the document's links) with the checks below. It fails if
schemathesis reports a failure, or the server logged an error or a traceback, or died.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image
from server import API_KEY, CHECKOUT, USER, Api, Server, running_server, temporaries

SCHEMATHESIS = CHECKOUT / ".venv" / "bin" / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")
UPLOAD_LIMIT = 1024 * 1024
# Every 5xx is a failure: on a local temporary root the store is never unreachable, so a
# 503 here would not be a genuine one either.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def seed(api: Api) -> dict[str, str]:
    """Items with real ids, made through the API; their ids by role."""
    reports = api.folder("/", "Reports")
    year = api.folder(reports["id"], "2024")
    image = api.upload(reports["id"], "summary.png", _png())
    notes = api.upload(reports["id"], "notes.txt", b"quarterly notes\n" * 64)
    api.upload(year["id"], "data.csv", b"a,b\n1,2\n")
    api.upload("/", "readme.md", b"# hello\n")
    linked = api.upload(
        reports["id"], "linked.pdf", b"%PDF-1.4\n", documentId="WF-DOC-1", documentVersionId="V1"
    )
    pending = api.ok("POST", "uploadInit", params={"parentId": year["id"], "filename": "p.docx"})
    doomed = api.folder("/", "To delete")
    doomed_file = api.upload(doomed["id"], "old.txt", b"old")
    return {
        "folder": reports["id"],
        "subfolder": year["id"],
        "image": image["id"],
        "file": notes["id"],
        "linked": linked["id"],
        "pending": pending["id"],
        "doomed folder": doomed["id"],
        "doomed file": doomed_file["id"],
    }


def _examples(values: dict[str, Any]) -> dict[str, Any]:
    return {role: {"value": value} for role, value in values.items()}


def with_examples(document: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """The document with the seeded ids (and a few names) as examples of its parameters.

    Only /delete gets the ids of the items seeded to be deleted, so that the others live
    on for the rest of the run.
    """
    document = copy.deepcopy(document)
    kept = {role: value for role, value in ids.items() if not role.startswith("doomed")}
    missing = {"root": "/", "unknown": "no-such-id"}
    folders = {"folder": ids["folder"], "subfolder": ids["subfolder"], "root": "/"}
    doomed = {"file": ids["doomed file"], "folder": ids["doomed folder"], **missing}
    common: dict[str, dict[str, Any]] = {
        "id": {**kept, **missing},
        "parentId": {**folders, "file": ids["file"]},
        "filename": {"new": "new file.txt", "taken": "notes.txt", "bad": "a/b"},
        "name": {"new": "Renamed ü.txt", "taken": "2024", "device": "con.txt"},
        "Range": {"head": "bytes=0-9", "suffix": "bytes=-5", "past": "bytes=99999-",
                  "two": "bytes=0-1,3-4"},
        "query": {"word": "notes", "two": "2024 data", "none": ""},
        "max": {"one": 1, "top": 1000},
    }  # fmt: skip
    by_path: dict[str, dict[str, dict[str, Any]]] = {
        "/api/delete": {"id": doomed, "documentId": doomed, "folderId": doomed},
        "/api/customAction": {
            "documentId": {"workfront": "WF-DOC-1"},
            "name": {"archive": "archive", "unknown": "x"},
            "id": {"linked": ids["linked"], **missing},
        },
    }
    by_path["/api/customName"] = by_path["/api/customAction"]
    for path, operations in document["paths"].items():
        values = {**common, **by_path.get(path, {})}
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in values:
                    parameter["examples"] = _examples(values[parameter["name"]])
    return document


def run_schemathesis(
    server: Server, spec: Path, max_examples: int, seed_value: int, timeout: float
) -> int:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        str(spec),
        "--url",
        server.url,
        "-H",
        f"apiKey: {API_KEY}",
        "-H",
        f"username: {USER}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed_value),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(spec.parent / "events.ndjson"),
    ]
    print("$", " ".join(command[:4]), "…", flush=True)
    done = subprocess.run(command, cwd=spec.parent, timeout=timeout, check=False)
    return done.returncode


def statuses_by_operation(events: Path) -> dict[str, Counter[int]]:
    """How often each operation answered each status, from schemathesis's NDJSON events."""
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    if not events.exists():
        return counts
    for line in events.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is None:
            continue
        for interaction in finished["recorder"].get("interactions", {}).values():
            request, response = interaction.get("request", {}), interaction.get("response")
            if response is None:
                continue
            path = urlsplit(request.get("uri", "")).path
            counts[f"{request.get('method', '?')} {path}"][response["status_code"]] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short form CI runs")
    parser.add_argument("--max-examples", type=int, help="test cases per operation")
    parser.add_argument("--seed", type=int, default=20151001)
    parser.add_argument("--report", metavar="DIR", help="keep the document and events here")
    parser.add_argument("--on-conflict", choices=["rename", "fail"], default="rename")
    args = parser.parse_args()
    max_examples = args.max_examples or (8 if args.quick else 200)
    timeout = 300 if args.quick else 3600
    started = time.monotonic()
    limits = {
        "DOCRELAY_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "DOCRELAY_ON_CONFLICT": args.on_conflict,
    }
    with running_server(**limits) as server:
        api = Api(server)
        ids = seed(api)
        document = api.client.get(f"{server.url}/openapi.json").json()
        api.close()
        with tempfile.TemporaryDirectory(prefix="docrelay-schemathesis-") as scratch:
            out = Path(args.report or scratch)
            out.mkdir(parents=True, exist_ok=True)
            spec = out / "openapi.json"
            spec.write_text(json.dumps(with_examples(document, ids), indent=1))
            code = run_schemathesis(server, spec, max_examples, args.seed, timeout)
            statuses = statuses_by_operation(out / "events.ndjson")
        faults = server.faults()
        alive = server.alive()
        left = temporaries(server.root)
    for operation, counts in sorted(statuses.items()):
        shown = ", ".join(f"{status}×{count}" for status, count in sorted(counts.items()))
        print(f"  {operation:28} {shown}")
    for line in faults[:20]:
        print("server:", line)
    print(
        f"schemathesis exit {code}; {len(faults)} server log faults; server "
        f"{'alive' if alive else 'DEAD'}; {len(left)} temporaries left; "
        f"{time.monotonic() - started:.0f} s"
    )
    return 0 if code == 0 and not faults and alive and not left else 1


if __name__ == "__main__":
    sys.exit(main())
