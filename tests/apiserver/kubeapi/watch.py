"""Watch streams: ADDED/MODIFIED/DELETED/BOOKMARK/ERROR events as JSON lines.

Semantics from the API concepts page (kubernetes.io/docs/reference/using-api/api-concepts/,
"Efficient detection of changes"):
- no resourceVersion (or "0"): synthetic ADDED events for the current state, then changes;
- resourceVersion=N: every change after N, or an ERROR event carrying a 410 Expired Status
  when N is older than the retained history;
- selectors turn transitions into ADDED/DELETED (an object leaving the selector is DELETED);
- allowWatchBookmarks=true: periodic BOOKMARK events carrying only a resourceVersion;
- timeoutSeconds ends the stream cleanly.
"""
import json
import queue
import time

from . import kinds, table
from .errors import ApiError


class WatchRequest:
    def __init__(self, rt, ns, selector, rv, bookmarks, timeout, as_table, include):
        self.rt, self.ns, self.selector = rt, ns, selector
        self.rv, self.bookmarks, self.timeout = rv, bookmarks, timeout
        self.as_table, self.include = as_table, include


class WatchStream:
    def __init__(self, store, faults, request, stopping, encode):
        self.store, self.faults, self.req, self.stopping = store, faults, request, stopping
        self.encode = encode   # (rt, stored object) -> JSON bytes, cached by the caller
        self.q = queue.Queue()
        self.sent_columns = False

    def _listener(self, event):
        if event.key == self.req.rt.store_key:
            self.q.put(event)

    def run(self, write):
        """Streams until timeout, fault-injected drop, server stop or client disconnect."""
        try:
            initial = self._subscribe()
        except ApiError as e:
            write(self._line("ERROR", e.status()))
            return
        try:
            batch = []
            for obj in initial:   # one write per ~256 KiB: 10k objects stream in well under 1 s
                batch.append(self._encode("ADDED", obj))
                if sum(map(len, batch)) > 262144 or len(batch) >= 512:
                    write(b"".join(batch))
                    batch = []
            if batch:
                write(b"".join(batch))
            self._loop(write)
        finally:
            with self.store.lock:
                self.store.listeners.remove(self._listener)

    def _subscribe(self):
        with self.store.lock:
            if self.req.rv not in (None, "", "0"):
                try:
                    since = int(self.req.rv)
                except ValueError:
                    raise ApiError(400, "BadRequest", f"invalid resource version: {self.req.rv}")
                for e in self.store.events_since(since):
                    if e.key == self.req.rt.store_key:
                        self.q.put(e)
                initial = []
            else:
                sel = self.req.selector
                initial, _, _, _ = self.store.page(self.req.rt.store_key, self.req.ns or None,
                                                   None, 0, None if sel.empty() else sel.matches)
            self.store.listeners.append(self._listener)
        return initial

    def _deadline(self):
        limit = self.req.timeout
        drop = self.faults.get("dropWatchSeconds")
        if drop and drop > 0:
            limit = min(limit, drop) if limit else drop
        return time.monotonic() + (limit or 1800)

    def _loop(self, write):
        deadline = self._deadline()
        next_bookmark = time.monotonic() + self.faults.get("bookmarkSeconds")
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= deadline:
                return
            if self.req.bookmarks and now >= next_bookmark:
                self._bookmark(write)
                next_bookmark = now + self.faults.get("bookmarkSeconds")
            wait = min(deadline, next_bookmark if self.req.bookmarks else deadline, now + 1) - now
            try:
                events = [self.q.get(timeout=max(wait, 0.01))]
            except queue.Empty:
                continue
            while len(events) < 512 and not self.q.empty():
                events.append(self.q.get_nowait())
            lines = [self._encode(*out) for out in map(self._transform, events) if out]
            if lines:
                write(b"".join(lines))

    def _bookmark(self, write):
        with self.store.lock:
            if not self.q.empty():
                return
            rv = self.store.rv
        write(self._line("BOOKMARK", {"kind": self.req.rt.kind,
                                      "apiVersion": self.req.rt.api_version,
                                      "metadata": {"resourceVersion": str(rv)}}))

    def _matches(self, obj):
        if obj is None:
            return False
        if self.req.ns and obj["metadata"].get("namespace") != self.req.ns:
            return False
        return self.req.selector.matches(obj)

    def _transform(self, e):
        now_in = e.type != "DELETED" and self._matches(e.obj)
        was_in = e.type != "ADDED" and self._matches(e.old)
        if e.type == "DELETED":
            return ("DELETED", e.obj) if was_in else None
        if now_in and was_in:
            return ("MODIFIED", e.obj)
        if now_in:
            return ("ADDED", e.obj)
        if was_in:
            return ("DELETED", e.obj)
        return None

    def _encode(self, kind, obj):
        rt = self.req.rt
        if self.req.as_table:
            body = table.table(rt, [obj], obj["metadata"]["resourceVersion"],
                               include=self.req.include, with_columns=not self.sent_columns,
                               external=lambda o: kinds.to_external(rt, o))
            self.sent_columns = True
            return self._line(kind, body)
        return b'{"type":"%s","object":%s}\n' % (kind.encode(), self.encode(rt, obj))

    @staticmethod
    def _line(kind, obj):
        return (json.dumps({"type": kind, "object": obj}, separators=(",", ":")) + "\n").encode()
