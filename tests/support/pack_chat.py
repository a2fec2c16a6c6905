"""One contact chatting with a built-in pack through FlowBot, the way the application drives it.

``Chat.say`` is one turn: it checks the rules every turn keeps (at most one reply, the
conversation on a step its pack has), and it plays the application's part of a two-part turn:
a ``LookupRequested`` for ``orders`` is answered from the orders this chat placed
(``OrderPlaced``), looked up like the application would, then ``FlowBot.looked_up``.
"""

from __future__ import annotations

from msgspec.structs import replace

from adapters.packs.files import builtin_data, builtin_pack
from domain.conversations import Conversation, Decision, Turn
from domain.flows import FlowBot, LookupRequested, OrderPlaced, Pack, order_record
from domain.flows.reference import find
from domain.flows.texts import RLM, directed, explanation, lookup, render
from domain.messages import MediaReply, Reply, reply_options
from domain.orders import Order
from domain.validation import Rejected

KEY = "whatsapp:+6281234567890"
LABEL = "Ana (+6281234567890)"
NOW = 1_784_095_200.0  # 2026-07-15 06:00 UTC: the factory's reference data is dated around it


def bot_for(name: str) -> FlowBot:
    """The built-in pack with the catalogue and reference data it names."""
    pack = builtin_pack(name)
    catalogue, reference = builtin_data(pack)
    return FlowBot([pack], catalogue, reference)


class Chat:
    """A contact's conversation with a bot, turn by turn."""

    def __init__(self, bot: FlowBot, language: str | None = None, key: str = KEY, now: float = NOW) -> None:
        self.bot = bot
        self.now = now
        self.conversation = bot.start(key, now, language)
        self.events: list[object] = []
        self.orders: dict[str, Order] = {}
        self.lookups = 0

    @property
    def pack(self) -> Pack:
        return self.bot.current

    @property
    def step(self) -> str:
        return self.conversation.step

    @property
    def language(self) -> str:
        return self.conversation.language

    def say(self, text: str = "", choice: str | None = None, media: bool = False) -> Decision:
        """One turn, checked; an order lookup answered as the application would."""
        self.now += 1.0
        turn = Turn(text=text, choice_id=choice, has_media=media, contact_label=LABEL, now=self.now)
        decision = self._checked(self.bot.decide(self.conversation, turn))
        requests = [e for e in decision.events if isinstance(e, LookupRequested)]
        if requests:
            assert decision.replies == ()
            self.lookups += 1
            answered = self._checked(self.bot.looked_up(decision.conversation, turn, self._record(requests[0])))
            decision = replace(answered, events=decision.events + answered.events)
        self.conversation = decision.conversation
        self.events += decision.events
        for event in decision.events:
            if isinstance(event, OrderPlaced):
                self.orders[event.number] = event.order
        return decision

    def walk(self, *messages: str) -> Chat:
        for text in messages:
            self.say(text)
        return self

    def _checked(self, decision: Decision) -> Decision:
        assert len(decision.replies) <= 1, decision.replies
        assert decision.conversation.step in self.pack.step_refs() | {"start"}, decision.conversation.step
        return decision

    def _record(self, request: LookupRequested) -> dict | None:
        """What the application answers: the record of one of this contact's own orders."""
        assert request.table == "orders" and request.contact_key == self.conversation.contact_key
        records = [order_record(number, order) for number, order in self.orders.items()]
        return find(records, request.query)


# --- what a reply says ---------------------------------------------------------------------


def only(decision: Decision) -> Reply:
    (reply,) = decision.replies
    return reply


def text_of(decision: Decision) -> str:
    reply = only(decision)
    return (reply.caption or "") if isinstance(reply, MediaReply) else reply.text


def ids(decision: Decision) -> list[str]:
    return [option.id for option in reply_options(only(decision))]


def plain(text: str) -> str:
    """A reply's text without its right-to-left marks."""
    return text.replace(RLM, "")


def said(pack: Pack, language: str, key: str, **values: str) -> str:
    """The pack's text ``key`` in ``language`` (English when it has none), filled, as a reply says it."""
    return directed(render(lookup(pack, language, key), pack.values | values), language)


def why(pack: Pack, language: str, code: str, **params: str) -> str:
    """The explanation a refused answer gets, as a reply says it."""
    return directed(explanation(pack, language, Rejected(code=code, params=params)), language)


def right_to_left(text: str) -> bool:
    """True when every line with words opens with a right-to-left mark."""
    return all(line.startswith(RLM) for line in text.split("\n") if line)


def held(conversation: Conversation) -> bool:
    return "_held" in conversation.data
