"""What a signed-in visitor of the pages may see (``links = "sign-in"``), and the folders
above an item, for the breadcrumbs."""

from dataclasses import dataclass

from sqlalchemy import select

from docrelay.auth.users import User
from docrelay.catalog.items import PRESENT, Item
from docrelay.catalog.schema import items
from docrelay.config import RuleAccess
from docrelay.errors import NotFound
from docrelay.services import Services


def rights(services: Services, user: User, item: Item) -> RuleAccess:
    """The user's access to the item, exactly as the API decides it for the acting user."""
    catalog = services.catalog
    if catalog.is_virtual_top(item):
        return "read-only"  # the top of several roots lists only the roots one may see
    access = services.access.access_for(user.name, catalog.root_of(item))
    if access == "read-write" and user.read_only:
        return "read-only"
    return access


def require_visible(services: Services, user: User, item: Item) -> None:
    if rights(services, user, item) == "none":
        raise NotFound("No item has this id.")


def visible(services: Services, user: User, children: list[Item]) -> list[Item]:
    return [child for child in children if rights(services, user, child) != "none"]


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


def ancestors(services: Services, item: Item) -> list[Item]:
    """The folders above the item, the root first."""
    pks = [int(pk) for pk in item.ancestry.strip("/").split("/") if pk]
    if not pks:
        return []
    with services.catalog.db.read() as connection:
        rows = connection.execute(
            select(items).where(items.c.pk.in_(pks), items.c.state == PRESENT)
        ).all()
    by_pk = {row.pk: Item.from_row(row) for row in rows}
    return [by_pk[pk] for pk in pks if pk in by_pk]


def crumbs(services: Services, user: User, item: Item) -> list[Crumb]:
    """Links to the folders above the item that the user may see."""
    shown = []
    for folder in ancestors(services, item):
        if rights(services, user, folder) == "none":
            continue
        name = services.settings.display_name if folder.is_root else folder.title
        shown.append(Crumb(name, services.links.view(folder.id)))
    return shown
