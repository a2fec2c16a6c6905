"""The database and the stores on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dependency_injector import containers, providers

from adapters.sql.conversations import SqlConversationStore
from adapters.sql.directory import SqlContactDirectory
from adapters.sql.event_feed import SqlEventFeed
from adapters.sql.database import Database, open_database
from adapters.sql.leads import SqlLeadQuery
from adapters.sql.message_log import SqlMessageLog
from adapters.sql.orders import SqlOrderBook
from adapters.sql.outbox import SqlOutbox
from adapters.sql.packs import SqlPackStore
from adapters.sql.transcripts import SqlTranscriptQuery
from entrypoints.settings import Settings



async def _database(url: str) -> AsyncIterator[Database]:
    database = open_database(url)
    yield database
    await database.dispose()

class Storage(containers.DeclarativeContainer):
    """The database and the stores on it."""

    settings = providers.Dependency(instance_of=Settings)
    database = providers.Resource(_database, url=settings.provided.database.url)
    message_log = providers.Singleton(SqlMessageLog, database)
    conversations = providers.Singleton(SqlConversationStore, database)
    outbox = providers.Singleton(SqlOutbox, database)
    leads = providers.Singleton(SqlLeadQuery, database)
    transcripts = providers.Singleton(SqlTranscriptQuery, database)
    directory = providers.Singleton(SqlContactDirectory, database)
    packs = providers.Singleton(SqlPackStore, database)
    event_feed = providers.Singleton(SqlEventFeed, database)
    orders = providers.Singleton(SqlOrderBook, database)
