"""The live bus: in-process and Redis pub/sub (against the real Redis on 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from shouhou.core import live
from shouhou.core.live import MemoryBus, RedisBus

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")


def run_async(scenario):
    """Run ``scenario()`` on its own event loop in its own thread: the browser tests' Playwright
    keeps a loop running in the main thread for the rest of the session."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(scenario())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def redis_prefix() -> str:
    _redis_or_skip()
    return f"shouhou-test:{uuid.uuid4().hex}:"


# --- in-process ------------------------------------------------------------------------------


def test_memory_subscriber_gets_messages_of_its_channels_only():
    # given one subscriber to order:1 and org:7
    bus = MemoryBus()
    with bus.subscribe(["order:1", "org:7"]) as subscription:
        # when messages go to its channels and to another
        bus.publish("order:1", {"id": 1})
        bus.publish("order:2", {"id": 2})
        bus.publish("org:7", {"id": 3})
        # then it gets exactly its two, in order, and then nothing
        assert subscription.get(timeout=1) == {"id": 1}
        assert subscription.get(timeout=1) == {"id": 3}
        assert subscription.get(timeout=0.05) is None


def test_memory_subscription_closed_is_forgotten():
    bus = MemoryBus()
    subscription = bus.subscribe(["order:1"])
    assert bus.subscriber_count() == 1
    subscription.close()
    assert bus.subscriber_count() == 0
    bus.publish("order:1", {"id": 1})  # nobody listens: nothing happens
    assert subscription.get(timeout=0.05) is None


def test_memory_bus_delivers_across_threads_to_every_subscriber():
    # given two readers waiting in their own threads
    bus = MemoryBus()
    subscriptions = [bus.subscribe(["org:1"]) for _ in range(2)]
    received: list[list[dict]] = [[], []]

    def read(index: int) -> None:
        for _ in range(2):
            message = subscriptions[index].get(timeout=5)
            if message is not None:
                received[index].append(message)

    threads = [threading.Thread(target=read, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    # when a third thread publishes twice
    publisher = threading.Thread(target=lambda: [bus.publish("org:1", {"id": n}) for n in (1, 2)])
    publisher.start()
    for thread in [*threads, publisher]:
        thread.join(timeout=10)
    # then both got both, in order
    assert received == [[{"id": 1}, {"id": 2}], [{"id": 1}, {"id": 2}]]


def test_memory_async_subscription_is_fed_from_another_thread():
    bus = MemoryBus()

    async def scenario() -> list:
        subscription = await bus.asubscribe(["tech:5"])
        threading.Thread(target=bus.publish, args=("tech:5", {"id": 9})).start()
        first = await subscription.aget(timeout=5)
        second = await subscription.aget(timeout=0.05)
        await subscription.aclose()
        return [first, second]

    assert run_async(scenario) == [{"id": 9}, None]
    assert bus.subscriber_count() == 0


def test_publish_never_raises_when_the_bus_fails(settings, caplog):
    # given a Redis that is not there
    settings.LIVE_BACKEND = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    # when / then: publishing logs and carries on
    live.publish("order:1", {"id": 1})
    assert "publishing to ['order:1'] failed" in caplog.text


def test_redis_backend_without_url_is_refused(settings):
    settings.LIVE_BACKEND = "redis"
    settings.REDIS_URL = ""
    with pytest.raises(ImproperlyConfigured, match="needs REDIS_URL"):
        live.get_bus()


def test_default_bus_is_in_process_and_shared(settings):
    settings.LIVE_BACKEND = "memory"
    assert isinstance(live.get_bus(), MemoryBus)
    assert live.get_bus() is live.get_bus()


# --- Redis -----------------------------------------------------------------------------------


def test_redis_subscribers_on_separate_connections_both_receive(redis_prefix):
    # given two "web processes": separate buses (separate connection pools), each subscribed in
    # its own thread, and a third bus that publishes
    readers = [RedisBus(REDIS_URL, prefix=redis_prefix) for _ in range(2)]
    publisher = RedisBus(REDIS_URL, prefix=redis_prefix)
    subscriptions = [bus.subscribe(["org:1"]) for bus in readers]
    received: list[list[dict]] = [[], []]

    def read(index: int) -> None:
        for _ in range(2):
            message = subscriptions[index].get(timeout=5)
            if message is not None:
                received[index].append(message)

    threads = [threading.Thread(target=read, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    # when two messages are published
    publisher.publish("org:1", {"id": 1, "order": "WX1"})
    publisher.publish("org:1", {"id": 2, "order": "WX1"})
    for thread in threads:
        thread.join(timeout=10)
    for subscription in subscriptions:
        subscription.close()
    # then each reader got both, in order
    expected = [{"id": 1, "order": "WX1"}, {"id": 2, "order": "WX1"}]
    assert received == [expected, expected]


def test_redis_channels_and_prefixes_are_kept_apart(redis_prefix):
    bus = RedisBus(REDIS_URL, prefix=redis_prefix)
    stranger = RedisBus(REDIS_URL, prefix=redis_prefix + "other:")
    with bus.subscribe(["order:1"]) as subscription:
        stranger.publish("order:1", {"id": 1})  # another site's order:1
        bus.publish("order:2", {"id": 2})  # another channel
        bus.publish("order:1", {"id": 3})
        assert subscription.get(timeout=5) == {"id": 3}
        assert subscription.get(timeout=0.2) is None


def test_redis_publish_many_reaches_each_channel_once_with_its_prefix(redis_prefix):
    bus = RedisBus(REDIS_URL, prefix=redis_prefix)
    stranger = RedisBus(REDIS_URL, prefix=redis_prefix + "other:")
    with (
        bus.subscribe(["org:1"]) as org,
        bus.subscribe(["tech:7"]) as tech,
        stranger.subscribe(["org:1"]) as other_site,
    ):
        # one message to two channels, sent in one pipeline
        bus.publish_many(["org:1", "tech:7"], {"id": 5, "order": "WX5"})
        assert org.get(timeout=5) == {"id": 5, "order": "WX5"}
        assert tech.get(timeout=5) == {"id": 5, "order": "WX5"}
        assert org.get(timeout=0.2) is None  # once, not once per channel
        assert other_site.get(timeout=0.2) is None


def test_redis_subscription_times_out_with_none(redis_prefix):
    bus = RedisBus(REDIS_URL, prefix=redis_prefix)
    with bus.subscribe(["tech:1"]) as subscription:
        assert subscription.get(timeout=0.2) is None


def test_redis_async_subscription_receives(redis_prefix):
    bus = RedisBus(REDIS_URL, prefix=redis_prefix)

    async def scenario() -> list:
        subscription = await bus.asubscribe(["order:4"])
        await asyncio.to_thread(bus.publish, "order:4", {"id": 4})
        first = await subscription.aget(timeout=5)
        second = await subscription.aget(timeout=0.2)
        await subscription.aclose()
        return [first, second]

    assert run_async(scenario) == [{"id": 4}, None]


def test_configured_redis_bus_uses_settings(settings, redis_prefix):
    settings.LIVE_BACKEND = "redis"
    settings.REDIS_URL = REDIS_URL
    settings.LIVE_CHANNEL_PREFIX = redis_prefix
    with live.subscribe(["org:2"]) as subscription:
        live.publish("org:2", {"id": 12})
        assert subscription.get(timeout=5) == {"id": 12}
