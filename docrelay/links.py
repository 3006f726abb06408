"""The signed links behind ``viewLink`` and ``downloadLink`` (SPEC.md §3).

Each link carries an HMAC of its purpose and id under the server's link secret: the link
alone opens its item, no other, and is the same on every call and across restarts.
"""

import base64
import hmac
from urllib.parse import quote

VIEW = "view"
DOWNLOAD = "download"
THUMBNAIL = "thumbnail"


class Links:
    def __init__(self, base_url: str, secret: bytes, signed: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self._keyed = hmac.new(secret, digestmod="sha256")  # copied for each signature
        self.signed = signed  # False: the pages ask for a sign-in instead (``links = "sign-in"``)

    def signature(self, purpose: str, item_id: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{purpose}\x00{item_id}".encode())
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode()

    def verify(self, purpose: str, item_id: str, signature: str | None) -> bool:
        if not signature:
            return False
        return hmac.compare_digest(signature.encode(), self.signature(purpose, item_id).encode())

    def url(self, purpose: str, item_id: str) -> str:
        address = f"{self.base_url}/{purpose}/{quote(item_id, safe='')}"
        if not self.signed:
            return address
        return f"{address}?sig={self.signature(purpose, item_id)}"

    def thumbnail(self, item_id: str, size: int) -> str:
        address = self.url(THUMBNAIL, item_id)
        return f"{address}{'&' if '?' in address else '?'}size={size}"

    def view(self, item_id: str) -> str:
        return self.url(VIEW, item_id)

    def download(self, item_id: str) -> str:
        return self.url(DOWNLOAD, item_id)
