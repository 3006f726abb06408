"""Custom actions (SPEC.md §4 ``/customAction``): declared in settings, run on one item.

A handler is a plain callable ``handler(context: ActionContext) -> str | None``. It
raises a ``docrelay.errors.DocrelayError`` (``BadRequest``, ``Forbidden``, …) to fail
with a message shown to the Workfront user; what it returns is logged.
"""

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from docrelay.catalog.catalog import Catalog
from docrelay.catalog.items import Item
from docrelay.config import CustomActionSetting, Settings
from docrelay.errors import Forbidden, NotFound
from docrelay.names import name_key

log = logging.getLogger("docrelay.actions")


@dataclass(frozen=True)
class ActionContext:
    item: Item
    acting_user: str
    read_only: bool
    catalog: Catalog
    settings: Settings
    workfront_document_id: str | None
    workfront_version_id: str | None

    def require_write(self) -> None:
        if self.read_only:
            raise Forbidden(f"The user {self.acting_user!r} may only read.")


Handler = Callable[[ActionContext], str | None]


@dataclass(frozen=True)
class Action:
    name: str
    display_name: str
    handler: Handler


def load_handler(spec: str) -> Handler:
    """``module:function`` → the callable; a clear ``ValueError`` if it cannot be found."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"A custom action handler must read 'module:function', not {spec!r}.")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"The custom action handler {spec!r} cannot be loaded: {error}") from None
    if not callable(handler):
        raise ValueError(f"The custom action handler {spec!r} is not callable.")
    return handler  # type: ignore[no-any-return]


class Actions:
    def __init__(self, declared: list[CustomActionSetting]) -> None:
        self._actions = {
            setting.name: Action(setting.name, setting.display_name, load_handler(setting.handler))
            for setting in declared
        }

    def listed(self) -> list[dict[str, str]]:
        return [
            {"name": action.name, "displayName": action.display_name}
            for action in self._actions.values()
        ]

    def get(self, name: str) -> Action:
        action = self._actions.get(name)
        if action is None:
            raise NotFound(f"There is no custom action named {name!r}.")
        return action


def archive(context: ActionContext) -> str:
    """Move the document into the archive folder at the top of its root (made if missing)."""
    context.require_write()
    catalog, folder_name = context.catalog, context.settings.archive_folder
    top = catalog.top_folder(context.item)
    folders = (child for child in catalog.children(top.id) if child.is_folder)
    wanted = name_key(folder_name)  # "archive" and "Archive" are the same name (SPEC §6)
    archive_folder = next((child for child in folders if name_key(child.title) == wanted), None)
    if archive_folder is None:
        archive_folder = catalog.create_folder(top.id, folder_name, "fail")
    if context.item.ancestry.startswith(archive_folder.child_ancestry):
        return f"{context.item.title!r} is already archived."
    moved = catalog.move(context.item.id, archive_folder.id)
    log.info("Archived %s as %r", moved.id, moved.title)
    return f"Moved {context.item.title!r} to {folder_name!r}."
