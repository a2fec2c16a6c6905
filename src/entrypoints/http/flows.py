"""The admin API's flow packs (``/api/v1/flows``): bots defined as data, changed while running."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath

from application.flows_admin import (
    InvalidDefinition,
    ManageFlows,
    PackExists,
    PackNotFound,
    PackSummary,
    ShippedPack,
)
from domain.flows import Pack
from entrypoints.http.admin import bearer_guard

_YAML = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class StoredVersion(msgspec.Struct, frozen=True, kw_only=True):
    """What storing a pack produced."""

    name: str
    version: int


class FlowsController(Controller):
    """Create, list, read, replace and deactivate flow packs."""

    path = "/api/v1/flows"
    guards = [bearer_guard]

    @post("/", status_code=201)
    async def create(self, request: Request, flows: NamedDependency[ManageFlows]) -> StoredVersion:
        """Store a new pack (JSON, or YAML with a YAML content type); 409 when it exists."""
        pack = await _answer(flows.create(await request.body(), _format(request)))
        return StoredVersion(name=pack.name, version=pack.version)

    @get("/")
    async def list_packs(self, flows: NamedDependency[ManageFlows]) -> list[PackSummary]:
        """Every pack, stored or shipped, at the version new conversations get."""
        return await flows.list()

    @get("/{name:str}")
    async def read(self, name: FromPath[str], flows: NamedDependency[ManageFlows]) -> Response[bytes]:
        """The pack's definition, as new conversations get it."""
        pack: Pack = await _answer(flows.get(name))
        return Response(msgspec.json.encode(pack), media_type="application/json")

    @put("/{name:str}", status_code=200)
    async def replace(self, name: FromPath[str], request: Request, flows: NamedDependency[ManageFlows]) -> StoredVersion:
        """Store the pack's next version; conversations inside it finish on theirs."""
        pack = await _answer(flows.replace(name, await request.body(), _format(request)))
        return StoredVersion(name=pack.name, version=pack.version)

    @delete("/{name:str}", status_code=204)
    async def deactivate(self, name: FromPath[str], flows: NamedDependency[ManageFlows]) -> None:
        """New conversations no longer get the stored pack."""
        await _answer(flows.deactivate(name))


def _format(request: Request) -> Literal["json", "yaml"]:
    return "yaml" if request.headers.get("content-type", "").split(";")[0].strip() in _YAML else "json"


async def _answer(work):  # type: ignore[no-untyped-def]
    # The use case's refusals, as an operator reads them.
    try:
        return await work
    except InvalidDefinition as exc:
        extra = [msgspec.to_builtins(problem) for problem in exc.problems]
        raise ClientException(f"the definition cannot be used: {exc}", extra=extra) from exc
    except (PackExists, ShippedPack) as exc:
        raise ClientException(str(exc), status_code=409) from exc
    except PackNotFound as exc:
        raise NotFoundException(str(exc)) from exc
