"""What an endpoint handler gets: the request, its parameters and the acting user."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request

from docrelay.api.params import Params
from docrelay.errors import Forbidden
from docrelay.services import Services

T = TypeVar("T")


@dataclass
class Call:
    services: Services
    request: Request
    params: Params
    endpoint: str
    user: str = ""
    read_only: bool = True

    def require_write(self) -> None:
        if self.read_only:
            raise Forbidden(f"The user {self.user!r} may only read.")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (catalog, store) off the event loop."""
        return await anyio.to_thread.run_sync(function, *args)
