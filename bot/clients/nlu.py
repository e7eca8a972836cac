"""Client for the Rasa NLU server (``POST /model/parse``).

Rasa runs in its own Python 3.10 env as a server; this is the only module that
talks to it. Every call has a timeout of at most 2 s so a stalled Rasa costs
the person one short wait, after which the engine falls back to keywords.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

import requests

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
    """HTTP client with a connection pool per thread and a hard timeout.

    With ``token`` (``RASA_TOKEN``, the server's ``--auth-token``) every call
    carries ``?token=``, which is how Rasa's HTTP API authenticates.
    """

    def __init__(self, base_url: str, timeout: float, token: str | None = None):
        self.base_url = base_url
        self.timeout = timeout
        self._params = {"token": token} if token else None
        # requests applies its timeout per phase; split the budget so that
        # connecting plus reading never exceeds ``timeout`` in total.
        connect = min(0.5, timeout / 2)
        self._timeouts = (connect, timeout - connect)
        self._parse_url = f"{base_url}/model/parse"
        # What requests would read from the environment on every call (proxies, CA bundle,
        # ~/.netrc: a scan of os.environ and three file checks per message), read once.
        probe = requests.Session()
        self._environment = probe.merge_environment_settings(self._parse_url, {}, None, None, None)
        self._netrc = requests.utils.get_netrc_auth(self._parse_url)
        probe.close()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
            session.proxies.update(self._environment.get("proxies") or {})
            session.verify = self._environment.get("verify", True)
            session.cert = self._environment.get("cert")
            session.auth = self._netrc
        return session

    def parse(self, text: str) -> NluResult:
        try:
            response = self._session().post(
                self._parse_url, json={"text": text}, params=self._params, timeout=self._timeouts
            )
            response.raise_for_status()
            return parse_response(response.json())
        except (requests.RequestException, ValueError) as exc:
            # Never log the text: it is the person's message.
            log.warning("rasa parse failed: %s", type(exc).__name__)
            raise NluUnavailable(type(exc).__name__) from exc

    def healthy(self) -> bool:
        """True when Rasa is up with a model loaded."""
        try:
            response = self._session().get(f"{self.base_url}/status", params=self._params, timeout=self._timeouts)
            return response.ok and bool(response.json().get("model_file"))
        except (requests.RequestException, ValueError):
            return False
