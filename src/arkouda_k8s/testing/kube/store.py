"""The object store: what etcd is to kube-apiserver.

One global resourceVersion counts every write of every resource. Stored objects are never mutated
(every write stores a new dict), so reads, lists and watch events can share them without copies.
A bounded history of events lets a watch resume from an older resourceVersion; `compact()` (or the
history filling up) forgets old events, and a watch from before the compaction gets the 410 that
etcd's compaction gives.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
StoreKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace or "", name)


@dataclass(frozen=True)
class Event:
    """One change: ADDED, MODIFIED or DELETED, with the object after (and before) the change."""

    rv: int
    type: str
    store: StoreKey
    key: ObjectKey
    object: JSON
    previous: JSON | None


@dataclass(eq=False)
class Subscriber:
    """A watch's mailbox: the store puts every event of its resource here."""

    store: StoreKey
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)

    def close(self) -> None:
        self.queue.put_nowait(None)


class Store:
    def __init__(self, history_limit: int = 10_000) -> None:
        self.rv = 0
        self.compacted_rv = 0  # a watch may start from any resourceVersion >= this one
        self._objects: dict[StoreKey, dict[ObjectKey, JSON]] = {}
        self._history: deque[Event] = deque()
        self._history_limit = history_limit
        self._subscribers: set[Subscriber] = set()
        self.on_change: list[Callable[[Event], None]] = []

    # --- reads ---

    def get(self, store: StoreKey, key: ObjectKey) -> JSON | None:
        return self._objects.get(store, {}).get(key)

    def items(self, store: StoreKey, namespace: str | None = None) -> list[tuple[ObjectKey, JSON]]:
        """Objects in key order (namespace, then name), as an etcd range read returns them."""
        objects = self._objects.get(store, {})
        keys = sorted(k for k in objects if namespace is None or k[0] == namespace)
        return [(k, objects[k]) for k in keys]

    def all_objects(self) -> Iterator[tuple[StoreKey, ObjectKey, JSON]]:
        for store, objects in self._objects.items():
            for key, obj in list(objects.items()):
                yield store, key, obj

    # --- writes: the caller has set everything but the resourceVersion ---

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, store: StoreKey, key: ObjectKey, obj: JSON, rv: int) -> JSON:
        previous = self._objects.setdefault(store, {}).get(key)
        obj["metadata"]["resourceVersion"] = str(rv)
        self._objects[store][key] = obj
        self._emit(Event(rv, "MODIFIED" if previous is not None else "ADDED", store, key, obj, previous))
        return obj

    def remove(self, store: StoreKey, key: ObjectKey, rv: int) -> JSON | None:
        previous = self._objects.get(store, {}).pop(key, None)
        if previous is None:
            return None
        final = {**previous, "metadata": {**previous["metadata"], "resourceVersion": str(rv)}}
        self._emit(Event(rv, "DELETED", store, key, final, previous))
        return final

    # --- history and watchers ---

    def _emit(self, event: Event) -> None:
        self._history.append(event)
        while len(self._history) > self._history_limit:
            dropped = self._history.popleft()
            self.compacted_rv = dropped.rv
        for sub in list(self._subscribers):
            if sub.store == event.store:
                sub.queue.put_nowait(event)
        for hook in list(self.on_change):
            hook(event)

    def compact(self) -> int:
        """Forget every event so far (etcd compaction at the current revision)."""
        self._history.clear()
        self.compacted_rv = self.rv
        return self.rv

    def events_since(self, store: StoreKey, rv: int) -> list[Event] | None:
        """Events of one resource after `rv`, or None when `rv` is older than what is kept."""
        if rv < self.compacted_rv:
            return None
        return [e for e in self._history if e.rv > rv and e.store == store]

    def subscribe(self, store: StoreKey) -> Subscriber:
        sub = Subscriber(store)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def end_watches(self) -> int:
        """Close every open watch (as an API server restart or a load balancer would)."""
        subs = list(self._subscribers)
        for sub in subs:
            sub.close()
        return len(subs)
