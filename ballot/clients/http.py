"""A minimal JSON-over-HTTP transport on the standard library."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ApiError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class Http:
    def __init__(self, base_url: str, *, bearer: str | None = None, timeout: float = 60):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the server address must start with http:// or https://: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.bearer = bearer
        self.timeout = timeout

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.bearer:
            req.add_header("Authorization", f"Bearer {self.bearer}")
        try:
            # The scheme is checked in __init__ (http or https only) (bandit B310).
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # nosec B310
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except (ValueError, AttributeError):
                message = str(exc.reason)
            raise ApiError(exc.code, message) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, payload: Any) -> Any:
        return self.request("POST", path, payload)
