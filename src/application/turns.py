"""Turning the messages waiting for a contact into one Turn for the bot."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from application.ports.storage import StoredInbound
from domain.contacts import contact_label
from domain.conversations import Turn
from domain.messages import TextReply
from domain.validation import Accepted, Rejected, check_message, explain, sanitise


class TurnRules(msgspec.Struct, frozen=True, kw_only=True):
    """The limits every conversation shares."""

    max_message_chars: int = 500
    session_ttl: float = 24 * 3600.0


def build_turn(
    inbound: Sequence[StoredInbound], language: str, rules: TurnRules, now: float
) -> tuple[Turn | None, TextReply | None]:
    """The merged turn (None when nothing usable arrived) and a notice owed to the user."""
    texts: list[str] = []
    refusal: Rejected | None = None
    for item in inbound:
        text = sanitise(item.message.text)
        checked = check_message(text, rules.max_message_chars)
        if isinstance(checked, Accepted):
            texts.append(text)
        elif text or not _has_content(item):
            refusal = refusal if refusal and refusal.code == "message.too_long" else checked
    latest = inbound[-1].message
    choice = next((i.message.choice_id for i in reversed(inbound) if i.message.choice_id), None)
    has_media = any(i.message.media or i.message.location for i in inbound)
    media = tuple(m.reference for i in inbound for m in i.message.media)
    notice = TextReply(text=explain(refusal, language)) if refusal else None
    if not texts and not choice and not has_media:
        return None, notice
    turn = Turn(
        text="\n".join(texts),
        choice_id=choice,
        has_media=has_media,
        media=media,
        contact_label=contact_label(latest.contact, latest.profile_name),
        now=now,
    )
    return turn, notice


def _has_content(item: StoredInbound) -> bool:
    message = item.message
    return bool(message.choice_id or message.media or message.location or message.shared_contact)
