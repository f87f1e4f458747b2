"""In-process controllers that the real control plane runs beside the API server:

- garbage collector (https://kubernetes.io/docs/concepts/architecture/garbage-collection/):
  dependents whose owners are all gone are deleted in the background; dangling owner
  references are dropped while another owner remains; `foregroundDeletion` owners wait for
  their dependents; `orphan` owners release them first;
- namespace controller: a deleted Namespace's contents are deleted, then its "kubernetes"
  finalizer is removed;
- CRD cleanup: a deleted CRD's custom objects are deleted before its finalizer is removed.

It runs on a thread woken by writes that could concern it, so clients observe the same
asynchronous behaviour as on a real cluster (deletion completes shortly after the request).
"""
import copy
import logging
import threading

from .crds import CLEANUP_FINALIZER
from .errors import ApiError

log = logging.getLogger("kubeapi.gc")


class Controllers:
    def __init__(self, api, stopping, interval=0.1):
        self.api, self.store, self.registry = api, api.store, api.registry
        self.stopping = stopping
        self.interval = interval
        self.dirty = threading.Event()
        self._types = {}
        self.store.listeners.append(self._on_event)
        self.thread = threading.Thread(target=self._run, name="controllers", daemon=True)

    def start(self):
        self.dirty.set()
        self.thread.start()

    def _on_event(self, e):
        meta = e.obj["metadata"]
        if e.type == "DELETED" or meta.get("deletionTimestamp") or meta.get("ownerReferences"):
            self.dirty.set()

    def _run(self):
        while not self.stopping.is_set():
            if not self.dirty.wait(timeout=0.5):
                continue
            self.dirty.clear()
            try:
                self.run_once()
            except Exception:   # keep the controllers alive; the next event retries
                log.exception("controller pass failed")
            self.stopping.wait(self.interval)

    def _type_for(self, key):
        if key not in self._types:
            types = self.registry.for_store_key(key)
            self._types[key] = types[0] if types else None
        return self._types[key]

    def run_once(self):
        self._types = {}   # store key -> one of its endpoints, looked up once per pass
        snapshot = self._snapshot()
        dependents = {}
        for key, obj in snapshot:
            for ref in obj["metadata"].get("ownerReferences") or []:
                dependents.setdefault(ref.get("uid"), []).append((key, obj))
        for key, obj in snapshot:
            rt = self._type_for(key)
            if rt is None:
                continue
            if obj["metadata"].get("deletionTimestamp"):
                self._finalize(rt, obj, dependents.get(obj["metadata"]["uid"], []), snapshot)
            elif obj["metadata"].get("ownerReferences"):
                self._collect(rt, obj)

    def _snapshot(self):
        with self.store.lock:
            return [(key, obj) for key, bucket in self.store.objects.items()
                    for obj in bucket.values()]

    def _delete(self, rt, obj, policy="Background"):
        meta = obj["metadata"]
        try:
            self.api.delete(rt, meta.get("namespace", ""), meta["name"],
                            {"propagationPolicy": policy, "preconditions": {"uid": meta["uid"]}})
        except ApiError:
            pass   # already gone or replaced: nothing to do

    # -- owners being deleted ---------------------------------------------------------------
    def _finalize(self, rt, obj, deps, snapshot):
        fins = obj["metadata"].get("finalizers") or []
        if "foregroundDeletion" in fins:
            live = [d for d in deps if self.store.lookup_uid(d[1]["metadata"]["uid"])]
            for key, dep in live:
                dep_rt = self._type_for(key)
                if dep_rt and not dep["metadata"].get("deletionTimestamp"):
                    self._delete(dep_rt, dep, "Foreground")
            # Only dependents whose reference says blockOwnerDeletion hold the owner back, as in
            # kube-controller-manager's garbage collector; the others are deleted all the same.
            uid = obj["metadata"]["uid"]
            blocking = [d for d in live if any(
                r.get("uid") == uid and r.get("blockOwnerDeletion")
                for r in d[1]["metadata"].get("ownerReferences") or [])]
            if not blocking:
                self.api.remove_finalizer(rt, obj, "foregroundDeletion")
        if "orphan" in fins:
            for key, dep in deps:
                self._drop_refs(key, dep, {obj["metadata"]["uid"]})
            self.api.remove_finalizer(rt, obj, "orphan")
        if rt.kind == "Namespace" and not rt.group:
            self._drain_namespace(rt, obj, snapshot)
        if rt.kind == "CustomResourceDefinition" and CLEANUP_FINALIZER in fins:
            self._drain_crd(rt, obj, snapshot)

    def _drain_namespace(self, rt, ns_obj, snapshot):
        name = ns_obj["metadata"]["name"]
        left = [(k, o) for k, o in snapshot if o["metadata"].get("namespace") == name]
        for key, obj in left:
            obj_rt = self._type_for(key)
            if obj_rt and not obj["metadata"].get("deletionTimestamp"):
                self._delete(obj_rt, obj)
        with self.store.lock:
            remaining = any(k[0] == name for bucket in self.store.objects.values() for k in bucket)
            current = self.store.get(rt.store_key, "", name)
            if remaining or current is None or not (current.get("spec") or {}).get("finalizers"):
                return
            new = copy.deepcopy(current)
            new["spec"] = {}
            self.api.commit(rt, current, new)

    def _drain_crd(self, rt, crd, snapshot):
        spec = crd.get("spec", {})
        key = f'{spec.get("group", "")}/{spec.get("names", {}).get("plural", "")}'
        objs = [o for k, o in snapshot if k == key]
        cr_rt = self._type_for(key)
        for obj in objs:
            if cr_rt and not obj["metadata"].get("deletionTimestamp"):
                self._delete(cr_rt, obj)
        with self.store.lock:
            if not self.store.objects.get(key):
                self.api.remove_finalizer(rt, crd, CLEANUP_FINALIZER)

    # -- dependents of deleted owners -------------------------------------------------------
    def _owner_alive(self, obj, ref):
        owner = self.store.lookup_uid(ref.get("uid"))
        if owner is None:
            return False
        owner_ns = owner["metadata"].get("namespace")
        return not owner_ns or owner_ns == obj["metadata"].get("namespace")

    def _collect(self, rt, obj):
        meta = obj["metadata"]
        obj = self.store.get(rt.store_key, meta.get("namespace", ""), meta["name"])
        if obj is None or obj["metadata"]["uid"] != meta["uid"]:
            return   # the snapshot is stale: this pass already changed it
        refs = obj["metadata"].get("ownerReferences") or []
        dead = {r.get("uid") for r in refs if not self._owner_alive(obj, r)}
        if not dead:
            return
        if len(dead) == len(refs):
            self._delete(rt, obj)
        else:
            self._drop_refs(rt.store_key, obj, dead)

    def _drop_refs(self, key, obj, uids):
        rt = self._type_for(key)
        if rt is None:
            return
        with self.store.lock:
            meta = obj["metadata"]
            current = self.store.get(key, meta.get("namespace", ""), meta["name"])
            if current is None or current["metadata"]["uid"] != meta["uid"]:
                return
            new = copy.deepcopy(current)
            refs = [r for r in new["metadata"].get("ownerReferences") or []
                    if r.get("uid") not in uids]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self.api.commit(rt, current, new)
