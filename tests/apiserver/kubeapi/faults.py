"""Fault injection for client tests: failing requests (500, or 429 with Retry-After), dropping
watches periodically, and knobs such as the bookmark interval. Settable by flags at start and
at run time through POST /_admin/faults.
"""
import random
import threading

from .errors import ApiError

DEFAULTS = {"errorPercent": 0, "errorCode": 500, "retryAfterSeconds": 1,
            "dropWatchSeconds": 0, "bookmarkSeconds": 60, "includeDiscovery": False}


class Faults:
    def __init__(self, **initial):
        self._lock = threading.Lock()
        self._initial = dict(DEFAULTS, **{k: v for k, v in initial.items() if v is not None})
        self._values = dict(self._initial)
        self._rng = random.Random()

    def snapshot(self):
        with self._lock:
            return dict(self._values)

    def update(self, changes):
        unknown = set(changes) - set(DEFAULTS)
        if unknown:
            raise ApiError(400, "BadRequest", f"unknown fault settings: {sorted(unknown)}")
        if changes.get("errorCode", 500) not in (429, 500, 503):
            raise ApiError(400, "BadRequest", "errorCode must be 429, 500 or 503")
        with self._lock:
            self._values.update(changes)
            return dict(self._values)

    def reset(self):
        """Back to no faults (bookmark interval back to its start value)."""
        with self._lock:
            self._values = dict(DEFAULTS, bookmarkSeconds=self._initial["bookmarkSeconds"])
            return dict(self._values)

    def get(self, key):
        with self._lock:
            return self._values[key]

    def maybe_fail(self, discovery=False):
        """Raises the injected error for this request, or returns."""
        with self._lock:
            v = self._values
            if discovery and not v["includeDiscovery"]:
                return
            if v["errorPercent"] <= 0 or self._rng.uniform(0, 100) >= v["errorPercent"]:
                return
            code, retry = v["errorCode"], v["retryAfterSeconds"]
        if code == 429:
            raise ApiError(429, "TooManyRequests", "injected fault: too many requests, please "
                           "try again later", {"retryAfterSeconds": retry},
                           headers={"Retry-After": str(retry)})
        if code == 503:
            raise ApiError(503, "ServiceUnavailable", "injected fault: service unavailable",
                           headers={"Retry-After": str(retry)})
        raise ApiError(500, "InternalError", "Internal error occurred: injected fault")
