"""In-memory object storage with one global resourceVersion counter and a bounded event history.

Like etcd behind the real server: every write gets the next revision, watches replay history
after a given revision, and revisions older than the retained window are "compacted" (a watch
from there gets 410 Gone). Stored objects are never mutated after being written: writers store
fresh dicts, so readers may serialise them without copying.
"""
import bisect
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
        self._sorted = {}                 # store_key -> sorted keys, dropped on add/remove
        self.by_uid = {}                  # uid -> (store_key, namespace, name)
        self.history = deque()
        self.history_limit = history_limit
        self.compacted_rv = first_rv      # events at or below this revision are gone
        self.listeners = []               # callables(Event) run under the lock

    # -- reads ------------------------------------------------------------------------------
    def get(self, key, ns, name):
        return self.objects.get(key, {}).get((ns or "", name))

    def _sorted_keys(self, key):
        """(namespace, name) keys of one store key in etcd order; rebuilt only after an
        object was added or removed, so paging through 10k objects does not re-sort."""
        keys = self._sorted.get(key)
        if keys is None:
            keys = sorted(self.objects.get(key, {}))
            self._sorted[key] = keys
        return keys

    def page(self, key, ns, start_after, limit, matches):
        """Up to `limit` objects (all if 0) after `start_after`, in key order, that pass
        `matches`. Returns (items, rv, more, remaining): `more` says whether another match
        exists; `remaining` counts the objects left when `matches` is None, else None."""
        with self.lock:
            keys = self._sorted_keys(key)
            bucket = self.objects.get(key, {})
            lo = bisect.bisect_right(keys, tuple(start_after)) if start_after else 0
            if ns:
                lo = max(lo, bisect.bisect_left(keys, (ns, "")))
                hi = bisect.bisect_left(keys, (ns + "\0", ""))
            else:
                hi = len(keys)
            if matches is None:
                end = min(hi, lo + limit) if limit else hi
                items = [bucket[k] for k in keys[lo:end]]
                return items, self.rv, end < hi, hi - end
            items = []
            for i in range(lo, hi):
                obj = bucket[keys[i]]
                if matches(obj):
                    if limit and len(items) == limit:
                        return items, self.rv, True, None
                    items.append(obj)
            return items, self.rv, False, None

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
            if old is None:
                self._sorted.pop(key, None)
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
            self._sorted.pop(key, None)
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
