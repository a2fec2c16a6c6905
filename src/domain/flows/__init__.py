"""Bots defined as data: packs of flows (``definition``), checked (``checks``), run (``engine``)."""

from domain.flows.catalogue import Catalogue, Product, money
from domain.flows.checks import validate_pack
from domain.flows.definition import InvalidPack, Pack, Problem, decode_pack
from domain.flows.engine import FlowBot, NoPack
from domain.flows.events import FlowEvent, FlowEvents, OrderPlaced
from domain.flows.texts import missing_translations

__all__ = [
    "Catalogue",
    "FlowBot",
    "FlowEvent",
    "FlowEvents",
    "InvalidPack",
    "NoPack",
    "OrderPlaced",
    "Pack",
    "Problem",
    "Product",
    "decode_pack",
    "missing_translations",
    "money",
    "validate_pack",
]
