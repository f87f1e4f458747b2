"""In-memory object storage with one global resourceVersion counter and a bounded event history.

Like etcd behind the real server: every write gets the next revision, watches replay history
after a given revision, and revisions older than the retained window are "compacted" (a watch
from there gets 410 Gone). Stored objects are never mutated after being written: writers store
fresh dicts, so readers may serialise them without copying.
"""
import threading
from collections import deque

from .errors import ApiError


class Event:
    __slots__ = ("rv", "key", "type", "obj", "old")

    def __init__(self, rv, key, type_, obj, old):
        self.rv, self.key, self.type, self.obj, self.old = rv, key, type_, obj, old


class Store:
    def __init__(self, history_limit=100000, first_rv=1000):
        self.lock = threading.RLock()
        self.rv = first_rv
        self.objects = {}                 # store_key -> {(namespace, name): obj}
        self.by_uid = {}                  # uid -> (store_key, namespace, name)
        self.history = deque()
        self.history_limit = history_limit
        self.compacted_rv = first_rv      # events at or below this revision are gone
        self.listeners = []               # callables(Event) run under the lock

    # -- reads ------------------------------------------------------------------------------
    def get(self, key, ns, name):
        return self.objects.get(key, {}).get((ns or "", name))

    def items(self, key, ns=None):
        """Snapshot of the objects of one store key, sorted like etcd keys."""
        with self.lock:
            bucket = self.objects.get(key, {})
            if ns:
                pairs = [(k, v) for k, v in bucket.items() if k[0] == ns]
            else:
                pairs = list(bucket.items())
            return [v for _, v in sorted(pairs, key=lambda kv: kv[0])], self.rv

    def keys(self):
        with self.lock:
            return list(self.objects)

    def lookup_uid(self, uid):
        with self.lock:
            loc = self.by_uid.get(uid)
            return self.get(*loc) if loc else None

    # -- writes -----------------------------------------------------------------------------
    def write(self, key, obj, old):
        """Stores obj (ADDED if old is None, else MODIFIED) under the next revision."""
        with self.lock:
            self.rv += 1
            meta = obj["metadata"]
            meta["resourceVersion"] = str(self.rv)
            ns, name = meta.get("namespace", ""), meta["name"]
            self.objects.setdefault(key, {})[(ns, name)] = obj
            self.by_uid[meta["uid"]] = (key, ns, name)
            self._record(Event(self.rv, key, "ADDED" if old is None else "MODIFIED", obj, old))
            return obj

    def remove(self, key, obj):
        """Deletes obj; the DELETED event carries the deletion's revision."""
        with self.lock:
            meta = obj["metadata"]
            ns, name = meta.get("namespace", ""), meta["name"]
            self.objects.get(key, {}).pop((ns, name), None)
            self.by_uid.pop(meta.get("uid"), None)
            self.rv += 1
            gone = dict(obj)
            gone["metadata"] = dict(meta, resourceVersion=str(self.rv))
            self._record(Event(self.rv, key, "DELETED", gone, obj))
            return gone

    def _record(self, event):
        self.history.append(event)
        while len(self.history) > self.history_limit:
            self.compacted_rv = self.history.popleft().rv
        for listener in list(self.listeners):
            listener(event)

    def compact(self):
        """Forgets all history, as etcd compaction does: older revisions now give 410."""
        with self.lock:
            self.history.clear()
            self.compacted_rv = self.rv

    # -- watch support ----------------------------------------------------------------------
    def events_since(self, rv):
        """History after revision rv; raises 410 Gone when rv is older than the window."""
        if rv < self.compacted_rv:
            raise ApiError(410, "Expired",
                           f"too old resource version: {rv} ({self.compacted_rv + 1})")
        return [e for e in self.history if e.rv > rv]
