"""SqlContactDirectory: a person's other ids (BSUID, LID) resolved to the contact they belong to."""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import select

from adapters.sql.database import Database
from adapters.sql.schema import contact_aliases
from domain.contacts import ContactId, whatsapp_contact


class SqlContactDirectory:
    """The ``ContactDirectory`` port: aliases recorded with inbound messages, cached in memory.

    Only ids that are not phone numbers are looked up (a phone is always its own contact), and
    an alias once found never changes its contact, so the cache needs no invalidation.
    """

    def __init__(self, db: Database, cache_size: int = 50_000) -> None:
        self._db = db
        self._cache: OrderedDict[str, ContactId] = OrderedDict()
        self._cache_size = cache_size

    async def resolve(self, contact: ContactId) -> ContactId:
        """The contact this id was recorded as an alias of, else the id itself."""
        if contact.phone is not None:
            return contact
        known = self._cache.get(contact.key)
        if known is not None:
            return known
        query = select(contact_aliases.c.contact_key).where(contact_aliases.c.alias_key == contact.key)
        found = await self._db.read(lambda conn: conn.execute(query).scalar_one_or_none())
        if found is None:
            return contact
        resolved = _contact_of(found, contact)
        self._remember(contact.key, resolved)
        return resolved

    def _remember(self, key: str, contact: ContactId) -> None:
        self._cache[key] = contact
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _contact_of(key: str, fallback: ContactId) -> ContactId:
    channel, _, value = key.partition(":")
    if channel == "whatsapp":
        return whatsapp_contact(value)
    return ContactId(channel=channel, value=value) if value else fallback
