"""Outbound messages (staff replies, alerts) through a Redis job queue and twilio's Client.

A message the bot starts is never sent inside a web request: it becomes an RQ
job on the ``kyr-outbound`` queue and a worker (``make worker``, the
``worker`` service in docker-compose) sends it with twilio's ``Client``.

- Temporary failures (Twilio 5xx, 429, timeouts, connection errors) are
  retried with growing waits (``OUTBOUND_RETRY_INTERVALS``); after the last
  try the job stays in RQ's failed registry, where ``flask outbound status``
  shows it and ``flask outbound retry`` sends it again. Nothing is dropped
  silently.
- Permanent failures (a 4xx such as 21610, "the person replied STOP") are not
  retried and are kept with their Twilio error code.
- Job payloads hold no readable phone number or text: both are encrypted
  with ``ENCRYPTION_KEY`` (Fernet) and decrypted only inside the worker.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import redis
import requests
from cryptography.fernet import Fernet, InvalidToken
from rq import Queue, Retry, get_current_job
from rq.job import Job
from rq.registry import FailedJobRegistry
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.config import Settings, load_settings

log = logging.getLogger(__name__)
QUEUE_NAME = "kyr-outbound"
#: Twilio's "the recipient replied STOP": never retried, and the person's alerts stop.
OPTED_OUT_ERROR = 21610
#: Jobs and their results are kept this long (every key has a TTL).
JOB_TTL_SECONDS = 7 * 86400


class OutboundNotConfigured(RuntimeError):
    """Sending needs REDIS_URL, ENCRYPTION_KEY and Twilio credentials."""


class TemporarySendError(RuntimeError):
    """Twilio or the network failed in a way worth retrying."""


class PermanentSendError(RuntimeError):
    """Twilio refused the message (e.g. 21610: the person opted out); retrying cannot help."""

    def __init__(self, code: int | None, status: int):
        super().__init__(f"Twilio refused the message: error {code} (HTTP {status})")
        self.code = code
        self.status = status


@dataclasses.dataclass(frozen=True)
class SendResult:
    message_sid: str
    status: str


def cipher(settings: Settings) -> Fernet:
    if not settings.encryption_key:
        raise OutboundNotConfigured("ENCRYPTION_KEY is not set (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
    return Fernet(settings.encryption_key.encode())


def outbound_queue(settings: Settings) -> Queue:
    if not settings.redis_url:
        raise OutboundNotConfigured("REDIS_URL is not set: the outbound queue lives in Redis")
    return Queue(QUEUE_NAME, connection=redis.Redis.from_url(settings.redis_url))


def enqueue_message(settings: Settings, to_e164: str, body: str, keep_seconds: int = JOB_TTL_SECONDS) -> Job:
    """Queue one outbound message; returns the RQ job (its id is safe to show and log).

    ``keep_seconds`` bounds how long the job (encrypted number and text) may live,
    queued, finished or failed: handoff messages live no longer than their transcript.
    """
    fernet = cipher(settings)
    keep = min(keep_seconds, JOB_TTL_SECONDS)
    return outbound_queue(settings).enqueue(
        send_message,
        fernet.encrypt(to_e164.encode()).decode(),
        fernet.encrypt(body.encode()).decode(),
        retry=Retry(max=len(settings.outbound_retry_intervals), interval=list(settings.outbound_retry_intervals)),
        result_ttl=keep,
        failure_ttl=keep,
        ttl=keep,
        description="outbound message",
    )


def twilio_client(settings: Settings) -> Client:
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise OutboundNotConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to send")
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=TwilioHttpClient(timeout=settings.outbound_timeout),
    )
    if settings.twilio_api_base_url:
        # A local Twilio-compatible peer (tests, staging); production leaves it unset.
        client.api.base_url = settings.twilio_api_base_url
    return client


def send_message(encrypted_to: str, encrypted_body: str) -> dict:
    """RQ job: decrypt number and text, send through Twilio, classify failures."""
    # twilio's HTTP client logs request parameters (number, text) at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    settings = load_settings(os.environ)
    try:
        fernet = cipher(settings)
        to = fernet.decrypt(encrypted_to.encode()).decode()
        body = fernet.decrypt(encrypted_body.encode()).decode()
    except InvalidToken:
        _no_retries()
        raise PermanentSendError(None, 0) from None
    try:
        message = twilio_client(settings).messages.create(to=to, body=body, **sender_options(settings, to))
    except (TwilioRestException, requests.RequestException) as exc:
        error = send_error(exc)
        if isinstance(error, PermanentSendError):
            _no_retries()
            if error.code == OPTED_OUT_ERROR:
                _record_opt_out(settings, fernet, to)
        raise error from None
    return dataclasses.asdict(SendResult(message.sid, message.status))


def _record_opt_out(settings: Settings, fernet: Fernet, address: str) -> None:
    """Twilio says the person opted out (21610): stop their alerts too."""
    from bot.clients.identity import sender_from_twilio
    from bot.clients.store import create_store
    from bot.outreach.subscriptions import Subscriptions

    store = create_store(settings.redis_url)
    if store.kind == "redis":
        key = sender_from_twilio(address, settings.id_hash_key, settings.default_region).key
        Subscriptions(store.client, fernet, settings.subscription_ttl_seconds).stop(key, reason="carrier")


def sender_options(settings: Settings, to: str) -> dict[str, str]:
    """Who sends: the WhatsApp sender for ``whatsapp:`` addresses, else the SMS number or Messaging Service."""
    if to.startswith("whatsapp:"):
        if settings.twilio_whatsapp_from:
            return {"from_": settings.twilio_whatsapp_from}
        if settings.twilio_messaging_service_sid:
            return {"messaging_service_sid": settings.twilio_messaging_service_sid}
        return {"from_": f"whatsapp:{settings.twilio_from}"}
    if settings.twilio_from:
        return {"from_": settings.twilio_from}
    return {"messaging_service_sid": settings.twilio_messaging_service_sid}


def send_error(exc: Exception) -> TemporarySendError | PermanentSendError:
    """Classify a failed Twilio call: 5xx, 429 and network errors are worth retrying; 4xx are not."""
    if isinstance(exc, TwilioRestException):
        if exc.status >= 500 or exc.status == 429:
            log.warning("outbound send failed temporarily: HTTP %s", exc.status)
            return TemporarySendError(f"Twilio answered HTTP {exc.status}")
        log.warning("outbound send refused: Twilio error %s", exc.code)
        return PermanentSendError(exc.code, exc.status)
    log.warning("outbound send failed temporarily: %s", type(exc).__name__)
    return TemporarySendError(type(exc).__name__)


def _no_retries() -> None:
    job = get_current_job()
    if job is not None:
        job.retries_left = 0
        job.save_meta()
        job.save()


@dataclasses.dataclass
class QueueStatus:
    queued: int
    scheduled: int
    failed: list[tuple[str, str]]  # (job id, reason)


def queue_status(settings: Settings) -> QueueStatus:
    queue = outbound_queue(settings)
    registry = FailedJobRegistry(queue=queue)
    failed = []
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=queue.connection)
        reason = (job.latest_result().exc_string.strip().splitlines()[-1] if job.latest_result() else "unknown")
        failed.append((job_id, reason))
    return QueueStatus(queued=queue.count, scheduled=queue.scheduled_job_registry.count, failed=failed)


def retry_failed(settings: Settings) -> int:
    queue = outbound_queue(settings)
    registry = FailedJobRegistry(queue=queue)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.requeue(job_id)
    return len(ids)
