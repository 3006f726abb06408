"""A lease in the catalog: background work that one instance at a time should do.

Several docrelay instances share one catalog. Whoever holds the lease (a row in
``server_values`` naming the holder and until when) does the work; it renews the lease
each time and another instance takes it over once it has expired, e.g. when its holder
stopped. Taking the lease is a write transaction that serialises on the database.
"""

import secrets
import time

from sqlalchemy import insert, select, update

from docrelay.catalog.db import LEASE_LOCK, Database
from docrelay.catalog.schema import server_values


class Lease:
    def __init__(self, database: Database, name: str, seconds: float) -> None:
        self.db = database
        self.key = f"lease:{name}"
        self.seconds = seconds
        self.holder = secrets.token_hex(8)

    def acquire(self) -> bool:
        """Take or renew the lease; whether this instance holds it now."""
        now = time.time()
        value = f"{self.holder} {now + self.seconds:.3f}"
        with self.db.write() as connection:
            self.db.lock(connection, LEASE_LOCK)
            row = connection.execute(
                select(server_values.c.value).where(server_values.c.key == self.key)
            ).first()
            if row is None:
                connection.execute(insert(server_values).values(key=self.key, value=value))
                return True
            holder, _space, until = str(row.value).partition(" ")
            if holder != self.holder and float(until or 0) > now:
                return False
            connection.execute(
                update(server_values).where(server_values.c.key == self.key).values(value=value)
            )
        return True

    def release(self) -> None:
        with self.db.write() as connection:
            self.db.lock(connection, LEASE_LOCK)
            row = connection.execute(
                select(server_values.c.value).where(server_values.c.key == self.key)
            ).first()
            if row is not None and str(row.value).startswith(self.holder + " "):
                connection.execute(
                    update(server_values)
                    .where(server_values.c.key == self.key)
                    .values(value=f"{self.holder} 0")
                )
