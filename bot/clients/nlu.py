"""Client for the Rasa NLU server (``POST /model/parse``).

Rasa runs in its own Python 3.10 env as a server; this is the only module that
talks to it. Every call has a timeout of at most 2 s so a stalled Rasa costs
the person one short wait, after which the engine falls back to keywords.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from urllib.parse import urlencode, urlsplit

import requests
import urllib3

log = logging.getLogger(__name__)


class NluUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with an error."""


@dataclasses.dataclass(frozen=True)
class Entity:
    name: str
    value: str


@dataclasses.dataclass(frozen=True)
class NluResult:
    intent: str | None
    confidence: float
    #: (intent, confidence) pairs, best first.
    ranking: tuple[tuple[str, float], ...]
    entities: tuple[Entity, ...]

    def second_confidence(self) -> float:
        return self.ranking[1][1] if len(self.ranking) > 1 else 0.0


def parse_response(payload: dict) -> NluResult:
    """Read Rasa's parse JSON into an ``NluResult`` (tolerant of missing parts)."""
    intent = payload.get("intent") or {}
    ranking = tuple(
        (item.get("name"), float(item.get("confidence") or 0.0))
        for item in payload.get("intent_ranking") or []
        if item.get("name")
    )
    entities = tuple(
        Entity(str(item.get("entity")), str(item.get("value")))
        for item in payload.get("entities") or []
        if item.get("entity") and item.get("value") is not None
    )
    return NluResult(
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=ranking,
        entities=entities,
    )


class RasaClient:
    """HTTP client with one thread-safe connection pool and a hard timeout.

    urllib3 directly, not ``requests`` on top of it: the webhook makes one call per
    message, and requests' per-call work (session merging, hooks, cookie jars) cost
    about 0.4 ms of CPU per message, a tenth of all the webhook's own work (issue #17).
    What requests would take from the environment (a proxy for this URL, a CA bundle)
    is read once here. With ``token`` (``RASA_TOKEN``, the server's ``--auth-token``)
    every call carries ``?token=``, which is how Rasa's HTTP API authenticates.
    """

    def __init__(self, base_url: str, timeout: float, token: str | None = None):
        self.base_url = base_url
        self.timeout = timeout
        query = f"?{urlencode({'token': token})}" if token else ""
        self._parse_url = f"{base_url}/model/parse{query}"
        self._status_url = f"{base_url}/status{query}"
        # The budget is split so that connecting plus reading never exceeds ``timeout`` in total.
        connect = min(0.5, timeout / 2)
        self._timeout = urllib3.Timeout(connect=connect, read=timeout - connect)
        environment = requests.Session().merge_environment_settings(self._parse_url, {}, None, None, None)
        verify = environment.get("verify", True)
        options = {"maxsize": 16, "retries": urllib3.Retry(total=0, read=False), "timeout": self._timeout}
        if isinstance(verify, str):
            options["ca_certs"] = verify
        elif verify is False:
            options["cert_reqs"] = "CERT_NONE"
        proxy = (environment.get("proxies") or {}).get(urlsplit(base_url).scheme)
        self._http = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)

    def _request(self, method: str, url: str, body: bytes | None = None) -> dict:
        headers = {"Content-Type": "application/json"} if body is not None else None
        response = self._http.request(method, url, body=body, headers=headers)
        if response.status >= 400:
            raise NluUnavailable(f"HTTP {response.status}")
        return json.loads(response.data)

    def parse(self, text: str) -> NluResult:
        try:
            payload = self._request("POST", self._parse_url, json.dumps({"text": text}).encode("utf-8"))
            return parse_response(payload)
        except (urllib3.exceptions.HTTPError, ValueError, NluUnavailable) as exc:
            # Never log the text: it is the person's message.
            log.warning("rasa parse failed: %s", type(exc).__name__)
            raise NluUnavailable(type(exc).__name__) from exc

    def healthy(self) -> bool:
        """True when Rasa is up with a model loaded."""
        try:
            return bool(self._request("GET", self._status_url).get("model_file"))
        except (urllib3.exceptions.HTTPError, ValueError, NluUnavailable, AttributeError):
            return False
