"""DispatchOutbox: sending what committed turns left, with retries, in the real container over fakes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from application.pacing import Pace
from application.ports.channels import PermanentFailure, RateLimited, SendReceipt, TemporaryFailure
from domain.contacts import ContactId
from domain.messages import OutboundMessage
from faked_gateway import Gateway
from fakes import OutboxRow


async def _answered_but_not_sent(gateway: Gateway, contact: ContactId, *texts: str) -> list[OutboxRow]:
    """Each text is its own turn; the replies wait in the outbox, in order."""
    for text in texts:
        await gateway.receive(gateway.message(text, contact=contact))
        gateway.clock.advance(gateway.cooldown)
        await gateway.run_turns()
    return gateway.db.jobs(lane=contact.key)


async def test_500_then_429_then_200_is_sent_once_honouring_retry_after(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    meta.fail(TemporaryFailure("HTTP 500", code="500"), RateLimited("HTTP 429", retry_after=30, code="429"))
    ana = new_contact()
    [job] = await _answered_but_not_sent(gateway, ana, "halo")

    assert await gateway.dispatch() == 1  # 500: back off about a second
    assert (job.status, job.attempts, job.error) == ("pending", 1, "500: HTTP 500")
    assert 0.5 <= job.next_attempt_at - gateway.clock.now() <= 1.0
    gateway.clock.set(job.next_attempt_at)
    assert await gateway.dispatch() == 1  # 429: wait as long as the provider asked
    assert job.next_attempt_at == gateway.clock.now() + 30
    gateway.clock.advance(29.9)
    assert await gateway.dispatch() == 0
    gateway.clock.advance(0.1)
    assert await gateway.dispatch() == 1

    assert len(meta.attempts) == 3 and len(meta.sent) == 1
    assert (job.status, job.attempts, job.provider_message_id) == ("sent", 3, "meta-msg-1")
    assert meta.sent[0].outbox_id == job.id and meta.sent[0].address == ana.value[1:]
    assert gateway.telemetry.outbound_counts == {("whatsapp", "meta", "retry"): 2, ("whatsapp", "meta", "sent"): 1}


async def test_a_permanent_failure_is_dead_after_one_try(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    meta.fail(PermanentFailure("recipient is not a WhatsApp user", code="400"))
    [job] = await _answered_but_not_sent(gateway, new_contact(), "halo")

    await gateway.dispatch()
    gateway.clock.advance(3600)
    await gateway.dispatch()

    assert (job.status, job.attempts) == ("dead", 1)
    assert job.error == "400: recipient is not a WhatsApp user"
    assert len(meta.attempts) == 1 and meta.sent == []
    assert gateway.telemetry.outbound_counts == {("whatsapp", "meta", "dead"): 1, ("telegram", "telegram_admin", "sent"): 1}  # the alert
    assert await gateway.outbox.pending_count() == 0


async def test_temporary_failures_until_max_attempts_end_dead(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    max_attempts = (await gateway.get("dispatch"))._policy.max_attempts
    meta.fail(*[TemporaryFailure("timed out") for _ in range(max_attempts + 1)])
    [job] = await _answered_but_not_sent(gateway, new_contact(), "halo")

    for _ in range(max_attempts + 2):
        await gateway.dispatch()
        gateway.clock.advance(3600)

    assert (job.status, job.attempts, job.error) == ("dead", max_attempts, "timed out")
    assert len(meta.attempts) == max_attempts and meta.sent == []
    assert gateway.telemetry.outbound_total("retry") == max_attempts - 1
    assert gateway.telemetry.outbound_total("dead") == 1


async def test_a_dead_reply_requeued_by_an_operator_is_sent(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    gateway.senders["meta"].fail(PermanentFailure("template needed", code="470"))
    [job] = await _answered_but_not_sent(gateway, new_contact(), "halo")
    await gateway.dispatch()

    assert await gateway.outbox.requeue(job.id, gateway.clock.now()) is True
    await gateway.dispatch()

    assert (job.status, job.attempts) == ("sent", 1)
    assert len(gateway.senders["meta"].sent) == 1


async def test_replies_to_one_contact_leave_in_order_even_when_the_first_must_wait(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    ana, budi = new_contact(), new_contact()
    queued = await _answered_but_not_sent(gateway, ana, "halo", "xyz", "bantuan")
    assert len(queued) == 3
    await _answered_but_not_sent(gateway, budi, "halo")
    meta.fail(TemporaryFailure("HTTP 503", code="503"))

    await gateway.dispatch()

    assert gateway.replies_to(ana) == []  # Ana's first reply failed, the next ones wait for it
    assert len(gateway.replies_to(budi)) == 1  # another contact's lane is not held up
    gateway.clock.advance(1.0)
    await gateway.dispatch()
    assert [m.outbox_id for m in gateway.replies_to(ana)] == [job.id for job in queued]
    texts = [m.reply.text for m in gateway.replies_to(ana)]  # type: ignore[union-attr]
    assert "selamat datang" in texts[0].lower() and "belum kami kenali" in texts[1] and "bantuan" in texts[2]


async def test_a_reply_for_a_provider_without_a_sender_is_dead_with_a_clear_error(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    ana = new_contact()
    await gateway.receive(gateway.message("halo", contact=ana, provider="acme"))
    gateway.clock.advance(gateway.cooldown)
    await gateway.run_turns()

    await gateway.dispatch()

    [job] = gateway.db.jobs(lane=ana.key)
    assert (job.status, job.provider) == ("dead", "acme")
    assert job.error is not None and "acme" in job.error and "sender" in job.error
    assert all(sender.attempts == [] for name, sender in gateway.senders.items() if name != "telegram_admin")
    assert gateway.telemetry.outbound_counts == {("whatsapp", "acme", "dead"): 1, ("telegram", "telegram_admin", "sent"): 1}


async def test_a_reply_outside_whatsapps_24_hour_window_is_not_attempted_and_needs_a_template(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    [job] = await _answered_but_not_sent(gateway, new_contact(), "halo")
    gateway.clock.advance(24 * 3600 + 1)  # the provider was down for a day

    await gateway.dispatch()

    assert meta.attempts == []
    assert job.status == "dead" and "template" in job.error and "24 hours" in job.error
    assert gateway.telemetry.outbound_counts == {("whatsapp", "meta", "needs_template"): 1, ("telegram", "telegram_admin", "sent"): 1}


async def test_throttling_is_waited_out_longer_than_other_failures(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    meta.fail(*[RateLimited("HTTP 429", retry_after=1, code="429")] * 7)
    [job] = await _answered_but_not_sent(gateway, new_contact(), "halo")

    for _ in range(8):
        await gateway.dispatch()
        gateway.clock.set(max(job.next_attempt_at, gateway.clock.now()) + 1)

    assert (job.status, job.attempts) == ("sent", 8)


async def test_a_dead_lettered_reply_alerts_the_admin_chat_once(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    meta.fail(PermanentFailure("recipient is not a WhatsApp user", code="131026"))
    ana = new_contact()
    await _answered_but_not_sent(gateway, ana, "halo")

    await gateway.dispatch()
    await gateway.dispatch()

    [alert] = gateway.senders["telegram_admin"].sent
    assert ana.key in alert.reply.text and "131026" in alert.reply.text


async def test_replies_faster_than_a_contacts_pace_are_deferred_not_attempted(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_COOLDOWN_MS": "0"})
    gateway.container.core.pacer.add_kwargs(paces={"meta": Pace(per_second=0.5, burst=1.0)})
    meta = gateway.senders["meta"]
    ana, budi = new_contact(), new_contact()
    first, second = await _answered_but_not_sent(gateway, ana, "halo", "halo lagi")
    [other] = await _answered_but_not_sent(gateway, budi, "halo")

    await gateway.dispatch()  # Ana's first and Budi's go
    await gateway.dispatch()  # Ana's second is too soon: deferred, not tried
    assert [m.outbox_id for m in meta.sent] == [first.id, other.id]
    assert (second.status, second.attempts) == ("pending", 0)
    gateway.clock.set(second.next_attempt_at)
    await gateway.dispatch()

    assert [m.outbox_id for m in meta.sent] == [first.id, other.id, second.id]
    assert (second.status, second.attempts) == ("sent", 1)


async def test_a_per_recipient_429_slows_only_that_contacts_lane(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    meta = gateway.senders["meta"]
    meta.fail(RateLimited("pair rate limit", retry_after=60, code="131056", per_recipient=True))
    ana, budi = new_contact(), new_contact()
    [ana_job] = await _answered_but_not_sent(gateway, ana, "halo")
    await gateway.dispatch()
    [budi_job] = await _answered_but_not_sent(gateway, budi, "halo")

    await gateway.dispatch()

    assert budi_job.status == "sent", "another contact is not held by one contact's throttling"
    assert ana_job.status == "pending" and ana_job.next_attempt_at - gateway.clock.now() > 55


async def test_a_big_batch_of_sends_is_started_a_slice_at_a_time(
    gateway: Gateway, new_contact: Callable[..., ContactId]
) -> None:
    # Started all at once, 40 sends would each take their first step in one loop turn, and a
    # webhook arriving then would wait for all of them; a slice at a time, it waits for 16.
    contacts = [new_contact() for _ in range(40)]
    await gateway.receive(*(gateway.message("halo", contact=c) for c in contacts))
    gateway.clock.advance(gateway.cooldown)
    await gateway.run_turns()
    loop_turn = 0
    started_on: list[int] = []
    meta = gateway.senders["meta"]
    send = meta.send

    async def noting_the_loop_turn(message: OutboundMessage) -> SendReceipt:
        started_on.append(loop_turn)
        return await send(message)

    async def count_loop_turns() -> None:
        nonlocal loop_turn
        while True:
            await asyncio.sleep(0)
            loop_turn += 1

    meta.send = noting_the_loop_turn  # type: ignore[method-assign]
    counter = asyncio.get_running_loop().create_task(count_loop_turns())
    try:
        assert await gateway.dispatch() == 40
    finally:
        counter.cancel()

    assert len(meta.sent) == 40
    assert [started_on.count(turn) for turn in sorted(set(started_on))] == [16, 16, 8]
