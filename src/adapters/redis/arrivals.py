"""``RecentArrivals`` on Redis: one short-lived key per contact, shared by every instance."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis


# Keep the later of the stored and the new arrival: two instances noting at once must not
# leave the earlier one behind. The key's life is renewed either way.
_NOTE_LATEST = """
local stored = redis.call('GET', KEYS[1])
if stored and tonumber(stored) >= tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
"""


class RedisRecentArrivals:
    """The latest arrival of each contact's messages, whichever instance received them.

    A key lives ``ttl_seconds``: a note only matters while it is younger than the cool-down
    (the turn compares it with the messages' own arrival times, kept in the database).
    """

    def __init__(self, client: Redis, *, ttl_seconds: float, prefix: str = "chatgate:arrived:") -> None:
        self._client = client
        self._ttl_ms = max(1000, int(ttl_seconds * 1000))
        self._prefix = prefix
        self._note = client.register_script(_NOTE_LATEST)

    async def note(self, contact_key: str, at: float) -> None:
        """A message of the contact's arrived at ``at`` (concurrent webhooks' notes share round
        trips through the client, ``GroupedCommands``)."""
        await self._note(keys=[self._prefix + contact_key], args=[repr(at), self._ttl_ms])

    async def latest(self, contact_keys: Sequence[str]) -> dict[str, float]:
        """The latest arrival noted for each contact that has a live note, in one round trip."""
        if not contact_keys:
            return {}
        values = await self._client.mget([self._prefix + key for key in contact_keys])
        return {key: float(value) for key, value in zip(contact_keys, values) if value is not None}
