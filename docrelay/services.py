"""The parts of a running docrelay, composed once by ``docrelay.app.create_app``."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docrelay.auth.access import AccessPolicy
from docrelay.auth.apikeys import KeyRing
from docrelay.catalog.catalog import Catalog
from docrelay.config import Settings
from docrelay.links import Links
from docrelay.store.base import Store
from docrelay.thumbnails import Thumbnailer

if TYPE_CHECKING:
    from docrelay.actions import Actions
    from docrelay.auth.accounts import Accounts


@dataclass
class Services:
    settings: Settings
    store: Store
    catalog: Catalog
    keys: KeyRing
    access: AccessPolicy
    links: Links
    thumbnails: Thumbnailer
    actions: "Actions"
    accounts: "Accounts"
    background: list[object] = field(default_factory=list)
