"""A small publish/subscribe bus for live pages (Server-Sent Events).

``publish(channel, message)`` hands a JSON-able dict to everyone subscribed to ``channel``;
``subscribe(channels)`` returns a subscription whose ``get(timeout)`` answers the next message
or ``None`` when ``timeout`` seconds pass (the caller sends a keep-alive then). Async code uses
``asubscribe`` and ``await subscription.aget(timeout)``.

Two backends, chosen by ``settings.LIVE_BACKEND`` (docs/configuration.md):

- ``memory`` (the default without ``REDIS_URL``): one process, thread-safe, a queue per
  subscriber. Enough for ``make run``; a second web process would not see the messages.
- ``redis``: Redis pub/sub, so every web process sees what any process published.

The bus is a notification, never the record: messages are lost when nobody listens or Redis is
down, and a subscriber that reconnects reads what it missed from the database. Publishing never
raises into the caller (it runs after a commit that already happened); a failure is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

Message = dict[str, Any]
# A slow reader loses the oldest messages beyond this many (it reloads from the database).
SUBSCRIBER_BACKLOG = 1000


class Subscription(Protocol):
    def get(self, timeout: float) -> Message | None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Subscription: ...

    def __exit__(self, *exc: object) -> None: ...


class AsyncSubscription(Protocol):
    async def aget(self, timeout: float) -> Message | None: ...

    async def aclose(self) -> None: ...


class Bus(Protocol):
    def publish(self, channel: str, message: Message) -> None: ...

    def publish_many(self, channels: list[str], message: Message) -> None: ...

    def subscribe(self, channels: Iterable[str]) -> Subscription: ...

    async def asubscribe(self, channels: Iterable[str]) -> AsyncSubscription: ...


# --- in-process ------------------------------------------------------------------------------


class _MemorySubscription:
    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self._bus = bus
        self.channels = channels
        self._queue: queue.Queue[Message] = queue.Queue(maxsize=SUBSCRIBER_BACKLOG)

    def deliver(self, message: Message) -> None:
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            logger.warning("live: a subscriber to %s fell behind; dropping", self.channels)

    def get(self, timeout: float) -> Message | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus._remove(self)

    def __enter__(self) -> _MemorySubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _MemoryAsyncSubscription:
    """Fed from any thread through the subscriber's event loop (``call_soon_threadsafe``)."""

    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self._bus = bus
        self.channels = channels
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=SUBSCRIBER_BACKLOG)

    def deliver(self, message: Message) -> None:
        def put() -> None:
            if self._queue.full():
                logger.warning("live: a subscriber to %s fell behind; dropping", self.channels)
                return
            self._queue.put_nowait(message)

        try:
            self._loop.call_soon_threadsafe(put)
        except RuntimeError:  # the loop is closed: the stream is gone
            self._bus._remove(self)

    async def aget(self, timeout: float) -> Message | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    async def aclose(self) -> None:
        self._bus._remove(self)


class MemoryBus:
    """Subscribers of this process only; safe to publish and subscribe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Any]] = {}

    def publish_many(self, channels: list[str], message: Message) -> None:
        for channel in channels:
            self.publish(channel, message)

    def publish(self, channel: str, message: Message) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for subscriber in subscribers:
            subscriber.deliver(message)

    def _add(self, subscriber: Any) -> None:
        with self._lock:
            for channel in subscriber.channels:
                self._subscribers.setdefault(channel, set()).add(subscriber)

    def _remove(self, subscriber: Any) -> None:
        with self._lock:
            for channel in subscriber.channels:
                listeners = self._subscribers.get(channel)
                if listeners is not None:
                    listeners.discard(subscriber)
                    if not listeners:
                        del self._subscribers[channel]

    def subscribe(self, channels: Iterable[str]) -> _MemorySubscription:
        subscription = _MemorySubscription(self, tuple(dict.fromkeys(channels)))
        self._add(subscription)
        return subscription

    async def asubscribe(self, channels: Iterable[str]) -> _MemoryAsyncSubscription:
        subscription = _MemoryAsyncSubscription(self, tuple(dict.fromkeys(channels)))
        self._add(subscription)
        return subscription

    def subscriber_count(self) -> int:
        with self._lock:
            return len({id(s) for listeners in self._subscribers.values() for s in listeners})


# --- Redis pub/sub ---------------------------------------------------------------------------


def _decode(raw: Any) -> Message | None:
    if not raw or raw.get("type") != "message":
        return None
    try:
        message = json.loads(raw["data"])
    except (TypeError, ValueError):
        logger.warning("live: ignoring a message that is not JSON on %s", raw.get("channel"))
        return None
    return message if isinstance(message, dict) else None


SUBSCRIBE_TIMEOUT = 5.0


class _RedisSubscription:
    def __init__(self, pubsub: Any, channel_count: int) -> None:
        self._pubsub = pubsub
        self._early: list[Message] = []
        # SUBSCRIBE answers later on its own connection: wait for Redis to confirm every channel,
        # so anything published after this returns is ours (the stream reads the database next).
        confirmed, deadline = 0, time.monotonic() + SUBSCRIBE_TIMEOUT
        while confirmed < channel_count and time.monotonic() < deadline:
            raw = pubsub.get_message(timeout=deadline - time.monotonic())
            if raw and raw.get("type") == "subscribe":
                confirmed += 1
            elif (message := _decode(raw)) is not None:
                self._early.append(message)

    def get(self, timeout: float) -> Message | None:
        if self._early:
            return self._early.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            message = _decode(self._pubsub.get_message(timeout=remaining))
            if message is not None:
                return message

    def close(self) -> None:
        try:
            self._pubsub.close()
        except Exception:  # the connection may already be gone; nothing to release then
            logger.debug("live: closing a Redis subscription failed", exc_info=True)

    def __enter__(self) -> _RedisSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _RedisAsyncSubscription:
    def __init__(self, client: Any, pubsub: Any) -> None:
        self._client = client
        self._pubsub = pubsub
        self._early: list[Message] = []

    async def confirm(self, channel_count: int) -> None:
        """Wait until Redis has confirmed every channel (see ``_RedisSubscription``)."""
        confirmed, deadline = 0, time.monotonic() + SUBSCRIBE_TIMEOUT
        while confirmed < channel_count and time.monotonic() < deadline:
            raw = await self._pubsub.get_message(timeout=deadline - time.monotonic())
            if raw and raw.get("type") == "subscribe":
                confirmed += 1
            elif (message := _decode(raw)) is not None:
                self._early.append(message)

    async def aget(self, timeout: float) -> Message | None:
        if self._early:
            return self._early.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            raw = await self._pubsub.get_message(timeout=remaining)
            message = _decode(raw)
            if message is not None:
                return message

    async def aclose(self) -> None:
        try:
            await self._pubsub.aclose()
            await self._client.aclose()
        except Exception:
            logger.debug("live: closing an async Redis subscription failed", exc_info=True)


class RedisBus:
    """Redis pub/sub: a message published by any process reaches subscribers in all of them.

    Channel names get ``prefix`` so several sites (or test runs) can share one Redis. Each
    subscription holds one Redis connection for as long as the stream is open.
    """

    def __init__(self, url: str, *, prefix: str = "shouhou:live:") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, health_check_interval=30)

    def publish(self, channel: str, message: Message) -> None:
        self._client.publish(self.prefix + channel, json.dumps(message, default=str))

    def publish_many(self, channels: list[str], message: Message) -> None:
        """One serialisation and one round trip for all of ``channels``."""
        if len(channels) == 1:
            self.publish(channels[0], message)
            return
        data = json.dumps(message, default=str)
        pipe = self._client.pipeline(transaction=False)
        for channel in channels:
            pipe.publish(self.prefix + channel, data)
        pipe.execute()

    def subscribe(self, channels: Iterable[str]) -> _RedisSubscription:
        names = [self.prefix + channel for channel in dict.fromkeys(channels)]
        pubsub = self._client.pubsub()
        pubsub.subscribe(*names)
        return _RedisSubscription(pubsub, len(names))

    async def asubscribe(self, channels: Iterable[str]) -> _RedisAsyncSubscription:
        import redis.asyncio

        # A client per stream: async connections belong to the event loop that made them.
        client = redis.asyncio.Redis.from_url(self.url)
        names = [self.prefix + channel for channel in dict.fromkeys(channels)]
        pubsub = client.pubsub()
        await pubsub.subscribe(*names)
        subscription = _RedisAsyncSubscription(client, pubsub)
        await subscription.confirm(len(names))
        return subscription


# --- the configured bus ----------------------------------------------------------------------

_buses: dict[tuple[str, str, str], Bus] = {}
_buses_lock = threading.Lock()


def get_bus() -> Bus:
    """The bus chosen by the settings (one per process and configuration)."""
    backend = settings.LIVE_BACKEND
    url = settings.REDIS_URL if backend == "redis" else ""
    prefix = settings.LIVE_CHANNEL_PREFIX
    key = (backend, url, prefix)
    with _buses_lock:
        bus = _buses.get(key)
        if bus is None:
            if backend == "memory":
                bus = MemoryBus()
            elif backend == "redis":
                if not url:
                    raise ImproperlyConfigured("LIVE_BACKEND=redis needs REDIS_URL.")
                bus = RedisBus(url, prefix=prefix)
            else:
                raise ImproperlyConfigured(f"LIVE_BACKEND={backend!r} must be memory or redis.")
            _buses[key] = bus
        return bus


def publish(channel: str, message: Message) -> None:
    """Send ``message`` to ``channel``'s subscribers; never raises (the bus is best effort)."""
    publish_many([channel], message)


def publish_many(channels: Iterable[str], message: Message) -> None:
    channels = list(channels)
    try:
        get_bus().publish_many(channels, message)
    except Exception:
        logger.exception("live: publishing to %s failed", channels)


def subscribe(channels: Iterable[str]) -> Subscription:
    return get_bus().subscribe(channels)


async def asubscribe(channels: Iterable[str]) -> AsyncSubscription:
    return await get_bus().asubscribe(channels)
