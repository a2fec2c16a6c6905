"""WhatsApp Web JIDs as WAHA writes them: chat kinds, contacts, and the chat id to answer on.

A JID is ``user[.agent][:device]@server`` (PROVIDERS.md 3.6). The domain folds the device part
and the servers (``@c.us``, ``@s.whatsapp.net``, ``@lid``) into one ``ContactId``; the agent
part (``20640312345.1:0@lid``) is dropped here first, as whatsmeow's ``ParseJID`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.contacts import ContactId, InvalidContactId, whatsapp_chat_id, whatsapp_contact

_AGENT = re.compile(r"^(\d+)\.\d+(?=[:@])")


def contact_of(jid: str | None) -> ContactId | None:
    """The user a JID names, or None for groups, broadcasts, newsletters and garbage."""
    if not jid or "@" not in jid:
        return None
    try:
        return whatsapp_contact(_AGENT.sub(r"\1", jid.strip()))
    except InvalidContactId:
        return None


def user_chat_id(jid: str) -> str | None:
    """The chat id WAHA sends to for a user JID: ``<digits>@c.us`` or ``<digits>@lid``."""
    contact = contact_of(jid)
    return whatsapp_chat_id(contact) if contact is not None else None


def same_person(primary: str | None, pairs: Iterable[tuple[str | None, str | None]]) -> list[ContactId]:
    """Every form of the person ``primary`` names, as the engine's ``(jid, alternative)`` pairs
    tie them; a pair counts only when one side is already known to be this person."""
    first = contact_of(primary)
    known = [first] if first is not None else []
    for left, right in pairs:
        sides = [c for c in (contact_of(left), contact_of(right)) if c is not None]
        if any(side in known for side in sides):
            known.extend(side for side in sides if side not in known)
    return known


def preferred(identities: list[ContactId]) -> ContactId | None:
    """The phone form when one is known (what operators and Sheets need), else the first."""
    return next((c for c in identities if c.phone), identities[0] if identities else None)
