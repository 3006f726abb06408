"""``docrelay serve`` with one thing changed, for the experiments of the benchmarks.

    .venv/bin/python bench/serve_variant.py [--http h11|httptools] [--loop asyncio|uvloop]
        [--chunk BYTES] [--thread-reads] --port 0

Settings come from ``DOCRELAY_*`` as for ``docrelay serve``, and the server is started by
docrelay's own ``docrelay.serve.run``; only the named knob differs:

- ``--http``/``--loop`` choose uvicorn's HTTP parser and event loop instead of what
  ``docrelay serve`` runs: its httptools protocol with zero-copy sends
  (docrelay.zerocopy) on asyncio's loop; ``--loop uvloop`` keeps that protocol, which
  then copies every byte through Python (uvloop has no sendfile);
- ``--chunk`` sets the read size of ``/download`` (``docrelay.api.content.CHUNK``);
- ``--thread-reads`` reads every chunk in a worker thread, as docrelay did before it
  read what the page cache holds in the event loop (and no sendfile).
"""

import argparse
from typing import Any

import uvicorn

from docrelay import serve
from docrelay.api import content
from docrelay.config import load_settings


async def threaded_stream(handle, first, length, zero_copy=False):  # type: ignore[no-untyped-def]
    """docrelay's ``_stream`` before reads from the page cache: every read in a worker
    thread."""
    import anyio.to_thread

    try:
        if first:
            await anyio.to_thread.run_sync(handle.seek, first)
        remaining = length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(handle.read, min(content.CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await anyio.to_thread.run_sync(handle.close)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    parser.add_argument("--chunk", type=int, help="bytes per read of /download")
    parser.add_argument("--thread-reads", action="store_true", help="every read in a thread")
    options = parser.parse_args()
    if options.chunk:
        content.CHUNK = options.chunk
    if options.thread_reads:
        content._stream = threaded_stream

    def config(*arguments: Any, **keywords: Any) -> uvicorn.Config:
        if options.http != "auto":
            keywords["http"] = options.http
        if options.loop != "auto":
            keywords["loop"] = options.loop
        return uvicorn.Config(*arguments, **keywords)

    serve.uvicorn = type("uvicorn", (), {"Config": config, "Server": uvicorn.Server})  # type: ignore[assignment]
    settings, origins = load_settings({"port": options.port})
    serve.run(settings, origins)


if __name__ == "__main__":
    main()
