"""What operators are told, in words, when a conversation needs a person."""

from __future__ import annotations

from domain.events import Event, HandoffRequested, LeadCaptured, QuestionReceived

_REASONS = {
    "invalid_answers": "three invalid answers in a row",
    "requested": "the contact asked for a person",
}


def admin_notice(event: Event) -> str:
    """One short message for the admin chat."""
    match event:
        case HandoffRequested(contact_label=who, reason=reason, last_text=last):
            why = _REASONS.get(reason, reason)
            tail = f'\nLast message: "{_clip(last)}"' if last else ""
            return f"⚠️ {who} needs a person ({why}). The bot is silent for them until released.{tail}"
        case QuestionReceived(contact_label=who, question=question):
            return f"❓ Question from {who}:\n{_clip(question)}"
        case LeadCaptured(contact_label=who, fields=fields):
            lines = "\n".join(f"{k}: {v}" for k, v in fields.items())
            return f"✅ New lead from {who}\n{lines}"
    raise TypeError(f"no notice for {event!r}")  # pragma: no cover


def undeliverable_notice(contact_key: str, error: str) -> str:
    """A reply was dead-lettered: an operator should look (and may re-queue it)."""
    return f"📭 A reply to {contact_key} could not be delivered and was set aside: {_clip(error, 200)}"


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
