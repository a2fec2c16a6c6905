"""Bots defined as data: packs of flows (``definition``), checked (``checks``), run (``engine``)."""

from domain.flows.catalogue import Catalogue, Product, money
from domain.flows.checks import missing_tables, validate_pack
from domain.flows.compose import compose
from domain.flows.decoding import decode_pack
from domain.flows.definition import InvalidPack, Pack, Problem
from domain.flows.engine import FlowBot, NoPack
from domain.flows.events import FlowEvent, FlowEvents, LookupRequested, OrderPlaced
from domain.flows.reference import Reference, order_number, order_record
from domain.flows.texts import missing_translations

__all__ = [
    "Catalogue",
    "FlowBot",
    "FlowEvent",
    "FlowEvents",
    "InvalidPack",
    "LookupRequested",
    "NoPack",
    "OrderPlaced",
    "Pack",
    "Problem",
    "Product",
    "Reference",
    "compose",
    "decode_pack",
    "missing_tables",
    "missing_translations",
    "money",
    "order_number",
    "order_record",
    "validate_pack",
]
