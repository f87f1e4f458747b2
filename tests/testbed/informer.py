"""List-then-watch caches of one resource kind, the way controllers keep their view of a cluster.

An Informer lists the collection, then watches from the list's resourceVersion; when the watch
ends it resumes from the last version seen, and on 410 Gone (or any error) it lists again. Every
change calls the handler with ("ADDED" | "MODIFIED" | "DELETED", object); a relist reports
objects that disappeared meanwhile as DELETED so nothing is leaked.
"""

import logging
import threading
import time

from kube_client import KubeError

log = logging.getLogger("testbed.informer")


def object_key(obj):
    meta = obj.get("metadata", {})
    return meta.get("namespace", ""), meta.get("name", "")


class Informer:
    def __init__(self, client, path, handler=None, watch_timeout=60):
        self.client = client
        self.path = path
        self.handler = handler
        self.watch_timeout = watch_timeout
        self._lock = threading.Lock()
        self._store = {}
        self._synced = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"informer {path}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()

    def wait_synced(self, timeout):
        return self._synced.wait(timeout)

    def list(self):
        with self._lock:
            return list(self._store.values())

    def get(self, namespace, name):
        with self._lock:
            return self._store.get((namespace, name))

    def _run(self):
        while not self._stop.is_set():
            try:
                version = self._relist()
                self._synced.set()
                while not self._stop.is_set():
                    version = self._watch_once(version)
            except KubeError as e:
                if e.code != 410:
                    log.warning("informer %s: %s", self.path, e)
                    self._stop.wait(1)
            except (OSError, ValueError) as e:
                log.warning("informer %s: %s", self.path, e)
                self._stop.wait(1)

    def _relist(self):
        answer = self.client.get(self.path)
        fresh = {object_key(o): o for o in answer.get("items", [])}
        with self._lock:
            gone = [o for k, o in self._store.items() if k not in fresh]
            old = self._store
            self._store = dict(fresh)
        for obj in gone:
            self._notify("DELETED", obj)
        for key, obj in fresh.items():
            if key not in old:
                self._notify("ADDED", obj)
            elif _version(old[key]) != _version(obj):
                self._notify("MODIFIED", obj)
        return answer.get("metadata", {}).get("resourceVersion", "")

    def _watch_once(self, version):
        started = time.monotonic()
        for event in self.client.watch(self.path, version, self.watch_timeout):
            kind, obj = event.get("type"), event.get("object", {})
            if kind == "ERROR":
                raise KubeError(obj.get("code", 500), obj)
            version = _version(obj) or version
            if kind == "BOOKMARK":
                continue
            key = object_key(obj)
            with self._lock:
                if kind == "DELETED":
                    self._store.pop(key, None)
                else:
                    self._store[key] = obj
            self._notify(kind, obj)
            if self._stop.is_set():
                break
        if time.monotonic() - started < 0.2:
            self._stop.wait(0.2)  # a server that closes watches at once must not spin us
        return version

    def _notify(self, kind, obj):
        if self.handler is None:
            return
        try:
            self.handler(kind, obj)
        except Exception:  # a handler bug must not kill the cache
            log.exception("informer %s: handler failed", self.path)


def _version(obj):
    return obj.get("metadata", {}).get("resourceVersion", "")
