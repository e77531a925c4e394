"""``POST /1/counts/events.json`` and ``/1/counts/profiles.json`` (spec §8): counts over the population.

Body ``{"event_name", "from", "to", "event_properties"?}`` (CQL, spec §7). events.json counts occurrences,
profiles.json counts users matching the whole query. With ``"async_counts": true`` in account.json the
first answer is ``{"status":"partial","req_id":N}`` and a follow-up (POST or GET with ``?req_id=N``, as
CleverTap's own QA suite polls) gets the count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sandbox.core.operations import Call, Reply
from sandbox.providers.clevertap import create_checks
from sandbox.providers.clevertap.audience import CqlError, translate
from sandbox.providers.clevertap.campaigns import follow_up
from sandbox.providers.clevertap.deliver import segment_resolver

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap


def _tree(call: Call[CleverTap]) -> dict[str, Any]:
    try:
        return translate(call.body)
    except CqlError as exc:
        raise create_checks.fail(exc.wire) from None


def _answer(call: Call[CleverTap], count: int) -> Reply:
    answer = {"status": "success", "count": count}
    provider = call.provider
    if provider.account.async_counts:
        return Reply({"status": "partial", "req_id": provider.state.request_id(call.tenant, answer)})
    return Reply(answer)


async def counts_profiles(call: Call[CleverTap]) -> Reply:
    if "req_id" in call.query or call.request.method == "GET":
        return follow_up(call)
    provider = call.provider
    tree = _tree(call)
    mask = provider.people.service.evaluate(tree, tenant=call.tenant,
                                            resolve_member=segment_resolver(provider.dashboard, call.tenant))
    return _answer(call, int(np.count_nonzero(mask)))


async def counts_events(call: Call[CleverTap]) -> Reply:
    if "req_id" in call.query or call.request.method == "GET":
        return follow_up(call)
    tree = _tree(call)
    node = tree if "event" in tree else next((n for n in tree.get("all", ()) if "event" in n), None)
    if node is None:
        raise create_checks.fail(create_checks.errors.FIELD_EMPTY.format(field="event_name"))
    others = [n for n in tree.get("all", ()) if n is not node]  # profile filters narrow to their users
    service = call.provider.people.service
    count = service.event_occurrences({"all": others}, node, tenant=call.tenant,
                                      resolve_member=segment_resolver(call.provider.dashboard, call.tenant))
    return _answer(call, count)
