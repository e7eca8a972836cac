"""Broadcast alerts: one text per language to the subscribers an audience picks.

A campaign (``kyr:campaign:<id>``) holds its texts and audience. Starting it
writes one status per recipient (``kyr:campaign:<id>:r``, field = the
subscriber's hash) and queues RQ jobs of ``BROADCAST_BATCH_SIZE`` recipients.

Nobody gets an alert twice, even when a worker dies mid-send:

- A worker claims a recipient atomically before calling Twilio (``claimed``)
  and records Twilio's MessageSid right after. A finished recipient is never
  claimed again, so re-running a job, ``resume`` or a second worker skips it.
- A claim left by a worker that died (older than ``BROADCAST_STALE_SECONDS``),
  or a try that timed out, is ambiguous: the message may or may not have
  reached Twilio. Before sending again, the worker asks Twilio's Messages
  list whether a message to that number went out since that try, and
  records it instead of resending.

Status only moves forward (queued → submitted → sending → sent → delivered/
undelivered/failed → read), whether it comes from the worker or from Twilio's
status callbacks in any order. Error 21610 marks the person stopped; a
WhatsApp subscriber outside the 24-hour window gets the language's approved
template (``WHATSAPP_ALERT_TEMPLATES``); error 63016 is kept and shown.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import secrets
import time

import redis
import requests
from cryptography.fernet import Fernet
from rq import Queue, Retry
from twilio.base.exceptions import TwilioRestException

from bot.config import Settings, load_settings
from bot.content.texts import ContentBase
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.outreach.outbound import (
    JOB_TTL_SECONDS,
    OPTED_OUT_ERROR,
    QUEUE_NAME,
    OutboundNotConfigured,
    PermanentSendError,
    TemporarySendError,
    cipher,
    send_error,
    sender_options,
    twilio_client,
)
from bot.language.segments import SegmentCount, count_segments, sms_text
from bot.clients.store import create_store
from bot.outreach.subscriptions import Audience, Subscriber, Subscriptions

log = logging.getLogger(__name__)

CAMPAIGN_PREFIX = "kyr:campaign:"
#: Broadcast ids are the date and six letters ("20261128-kqzmfa"): never a digit run that
#: the privacy audit could mistake for a phone number.
CAMPAIGN_ID_LETTERS = "abcdefghjkmnpqrstuvwxyz"
CAMPAIGN_ID_PATTERN = r"\d{8}-[a-z]{6}"
RATE_PREFIX = "kyr:bcast-rate:"
#: ``kyr:status-cb:<send id>`` → "<campaign id> <recipient hash>": the status callback URL
#: carries only the random send id, so Twilio's logs never see a subscriber's hash.
STATUS_CALLBACK_PREFIX = "kyr:status-cb:"
SEND_ID_PATTERN = r"[0-9a-f]{32}"
#: WhatsApp lets a business send free-form text this long after the person's last message.
WHATSAPP_WINDOW_SECONDS = 24 * 3600
#: Errors that mean "this person opted out": stop all their outreach.
OPTED_OUT_ERRORS = {OPTED_OUT_ERROR}

#: Forward-only order of a recipient's status (Twilio's statuses plus ours).
RANK = {
    "queued": 0,  # ours: waiting for a worker
    "retry": 1,  # ours: a temporary failure; the job retries with backoff
    "claimed": 1,  # ours: a worker is sending it now
    "accepted": 2,
    "scheduled": 2,
    "submitted": 2,  # ours: Twilio accepted it (we have its MessageSid)
    "queued_at_twilio": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
    "skipped": 9,  # ours: not sent (opted out meanwhile, no text in their language, no template)
}
#: How statuses are summed up for people watching a broadcast.
SUMMARY = {
    "queued": "pending", "retry": "pending", "claimed": "pending",
    "accepted": "sent", "scheduled": "sent", "submitted": "sent", "queued_at_twilio": "sent",
    "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "delivered",
    "undelivered": "failed", "failed": "failed", "canceled": "failed",
    "skipped": "skipped",
}

# Set a recipient's status only if it moves forward. KEYS[1] = recipients hash.
# ARGV: field, new JSON value, new rank.
_FORWARD = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local previous = cjson.decode(old)
if tonumber(previous.r) >= tonumber(ARGV[3]) then return 0 end
local new = cjson.decode(ARGV[2])
if (not new.sid or new.sid == '') and previous.sid then new.sid = previous.sid end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(new))
return 1
"""

# Claim a recipient for sending. Returns the previous status JSON when the
# claim is granted ("queued", "retry" or a stale "claimed"), else false.
# ARGV: field, claim JSON, now, stale seconds.
_CLAIM = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return false end
local previous = cjson.decode(old)
local stale = previous.s == 'claimed' and (tonumber(ARGV[3]) - tonumber(previous.at)) > tonumber(ARGV[4])
if previous.s == 'queued' or previous.s == 'retry' or stale then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return old
end
return false
"""


class BroadcastError(ValueError):
    """A broadcast cannot be created or started (the message says why)."""


@dataclasses.dataclass(frozen=True)
class Campaign:
    id: str
    texts: dict[str, str]
    audience: Audience
    created: int
    started: int = 0

    def as_hash(self) -> dict[str, str]:
        return {
            "texts": json.dumps(self.texts, ensure_ascii=False),
            "audience": json.dumps(self.audience.as_dict()),
            "created": str(self.created),
            "started": str(self.started),
        }

    @classmethod
    def from_hash(cls, campaign_id: str, data: dict[str, str]) -> "Campaign":
        return cls(
            id=campaign_id,
            texts=json.loads(data["texts"]),
            audience=Audience.from_dict(json.loads(data["audience"])),
            created=int(data.get("created") or 0),
            started=int(data.get("started") or 0),
        )


@dataclasses.dataclass
class Preview:
    """What a broadcast would do, before it is sent."""

    reach_by_language: dict[str, int]
    without_text: dict[str, int]  # subscribers whose language has no text (skipped)
    segments_by_language: dict[str, SegmentCount]  # each language's text with its footer, as SMS

    @property
    def reach(self) -> int:
        return sum(self.reach_by_language.values())


@dataclasses.dataclass
class Progress:
    total: int
    by_summary: dict[str, int]  # pending / sent / delivered / failed / skipped
    by_status: dict[str, int]
    errors: dict[str, int]  # Twilio error code or skip reason → count

    def line(self) -> str:
        parts = [f"{name} {self.by_summary.get(name, 0)}" for name in ("sent", "delivered", "failed", "skipped", "pending")]
        return f"{self.total} recipients: " + ", ".join(parts)


def recipients_key(campaign_id: str) -> str:
    return f"{CAMPAIGN_PREFIX}{campaign_id}:r"


def alert_text(content: ContentBase, text: str, lang: str, channel: str) -> str:
    """The alert as this subscriber gets it: text + "Reply STOP…" footer, SMS-encoded for SMS."""
    full = f"{text.strip()}\n{content.text('system.alert_footer', lang)}"
    return sms_text(full, lang) if channel != "whatsapp" else full


def validate_texts(texts: dict[str, str]) -> dict[str, str]:
    cleaned = {lang.strip().lower(): (text or "").strip() for lang, text in texts.items()}
    unknown = sorted(set(cleaned) - set(SUPPORTED_LANGUAGES))
    if unknown:
        raise BroadcastError(f"unknown language(s) {', '.join(unknown)}; use {', '.join(SUPPORTED_LANGUAGES)}")
    cleaned = {lang: text for lang, text in cleaned.items() if text}
    if not cleaned:
        raise BroadcastError("a broadcast needs a text in at least one language")
    too_long = [lang for lang, text in cleaned.items() if len(text) > 1400]
    if too_long:
        raise BroadcastError(f"text too long for an SMS alert in: {', '.join(too_long)} (max 1400 characters)")
    return cleaned


def review_digest(texts: dict[str, str], audience: Audience) -> str:
    """SHA-256 of the texts (as they would be sent) and the audience.

    A console review's confirm token is bound to it, so what is sent is exactly
    what the admin reviewed (issue #15, finding 9).
    """
    reviewed = {"texts": validate_texts(texts), "audience": audience.as_dict()}
    return hashlib.sha256(json.dumps(reviewed, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Broadcasts:
    """Create, preview, start, resume and follow broadcasts."""

    def __init__(self, settings: Settings, client: redis.Redis, content: ContentBase, subscriptions: Subscriptions):
        self.settings = settings
        self.client = client
        self.content = content
        self.subscriptions = subscriptions

    # -- composing ---------------------------------------------------------

    def preview(self, texts: dict[str, str], audience: Audience) -> Preview:
        texts = validate_texts(texts)
        reach: collections.Counter = collections.Counter()
        without: collections.Counter = collections.Counter()
        for subscriber in self.subscriptions.active(audience):
            (reach if subscriber.lang in texts else without)[subscriber.lang] += 1
        segments = {lang: count_segments(alert_text(self.content, text, lang, "sms")) for lang, text in texts.items()}
        return Preview(dict(reach), dict(without), segments)

    def create(self, texts: dict[str, str], audience: Audience) -> Campaign:
        campaign = Campaign(
            id=datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-")
            + "".join(secrets.choice(CAMPAIGN_ID_LETTERS) for _ in range(6)),
            texts=validate_texts(texts),
            audience=audience,
            created=int(time.time()),
        )
        self._write_with_ttl(CAMPAIGN_PREFIX + campaign.id, campaign.as_hash())
        return campaign

    def _write_with_ttl(self, key: str, fields: dict[str, str]) -> None:
        """HSET and EXPIRE in one MULTI: a process that dies in between cannot leave a key without TTL."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, self.settings.campaign_ttl_seconds)
        pipe.execute()

    def _register(self, rkey: str, recipient: str, status: str) -> bool:
        """HSETNX a recipient's first status and (re)set the hash's TTL in one MULTI; True when new."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(rkey, recipient, status)
        pipe.expire(rkey, self.settings.campaign_ttl_seconds)
        return bool(pipe.execute()[0])

    def get(self, campaign_id: str) -> Campaign:
        data = self.client.hgetall(CAMPAIGN_PREFIX + campaign_id)
        if not data:
            raise BroadcastError(f"no broadcast {campaign_id!r} (it may have expired)")
        return Campaign.from_hash(campaign_id, data)

    def recent(self, limit: int = 20) -> list[Campaign]:
        """The newest broadcasts still kept (SCAN, so it never blocks Redis), newest first."""
        ids = []
        for key in self.client.scan_iter(match=CAMPAIGN_PREFIX + "*", count=500):
            key = key.decode() if isinstance(key, bytes) else key
            campaign_id = key[len(CAMPAIGN_PREFIX):]
            if ":" not in campaign_id:  # skip the recipients hashes (<id>:r)
                ids.append(campaign_id)
        pipe = self.client.pipeline(transaction=False)
        for campaign_id in ids:
            pipe.hgetall(CAMPAIGN_PREFIX + campaign_id)
        campaigns = [Campaign.from_hash(campaign_id, data) for campaign_id, data in zip(ids, pipe.execute()) if data]
        campaigns.sort(key=lambda campaign: (campaign.created, campaign.id), reverse=True)
        return campaigns[:limit]

    # -- sending -----------------------------------------------------------

    def start(self, campaign_id: str) -> int:
        """Pick the recipients once and queue their jobs; returns how many were added.

        Starting twice adds nobody twice: each recipient is registered with HSETNX,
        in the same MULTI as the hash's EXPIRE, so no key is ever left without a TTL.
        """
        campaign = self.get(campaign_id)
        queue = alert_queue(self.settings, self.client)
        rkey = recipients_key(campaign_id)
        added: list[str] = []
        batch: list[str] = []
        queued = json.dumps({"s": "queued", "r": RANK["queued"]})
        for subscriber in self.subscriptions.active(campaign.audience):
            if subscriber.lang not in campaign.texts:
                skipped = json.dumps({"s": "skipped", "r": RANK["skipped"], "why": "no_text"})
                self._register(rkey, subscriber.key, skipped)
                continue
            if self._register(rkey, subscriber.key, queued):
                added.append(subscriber.key)
                batch.append(subscriber.key)
            if len(batch) >= self.settings.broadcast_batch_size:
                self._enqueue(queue, campaign_id, batch)
                batch = []
        if batch:
            self._enqueue(queue, campaign_id, batch)
        self._write_with_ttl(CAMPAIGN_PREFIX + campaign_id, {"started": str(int(time.time()))})
        return len(added)

    def resume(self, campaign_id: str) -> int:
        """Queue again every recipient not finished (after a worker died or jobs failed)."""
        self.get(campaign_id)
        queue = alert_queue(self.settings, self.client)
        unfinished = [
            field for field, value in self.client.hgetall(recipients_key(campaign_id)).items()
            if json.loads(value)["s"] in ("queued", "retry", "claimed")
        ]
        size = self.settings.broadcast_batch_size
        for start in range(0, len(unfinished), size):
            self._enqueue(queue, campaign_id, unfinished[start:start + size])
        return len(unfinished)

    def _enqueue(self, queue: Queue, campaign_id: str, keys: list[str]) -> None:
        queue.enqueue(
            send_alert_batch,
            campaign_id,
            list(keys),
            retry=Retry(max=len(self.settings.outbound_retry_intervals), interval=list(self.settings.outbound_retry_intervals)),
            result_ttl=JOB_TTL_SECONDS,
            failure_ttl=JOB_TTL_SECONDS,
            ttl=JOB_TTL_SECONDS,
            job_timeout=max(180, int(len(keys) / self.settings.broadcast_rate_per_second) + 120),
            description=f"alert batch for broadcast {campaign_id}",
        )

    # -- following -----------------------------------------------------------

    def progress(self, campaign_id: str) -> Progress:
        by_status: collections.Counter = collections.Counter()
        errors: collections.Counter = collections.Counter()
        for value in self.client.hvals(recipients_key(campaign_id)):
            record = json.loads(value)
            by_status[record["s"]] += 1
            if record.get("err"):
                errors[str(record["err"])] += 1
            elif record.get("why"):
                errors[record["why"]] += 1
        by_summary: collections.Counter = collections.Counter()
        for status, count in by_status.items():
            by_summary[SUMMARY.get(status, "sent")] += count
        return Progress(sum(by_status.values()), dict(by_summary), dict(by_status), dict(errors))

    def new_send_id(self, campaign_id: str, recipient: str) -> str:
        """A random id for one send's status callback URL, mapped (with the campaign's TTL) to whom it was for."""
        send_id = secrets.token_hex(16)
        self.client.set(STATUS_CALLBACK_PREFIX + send_id, f"{campaign_id} {recipient}",
                        ex=self.settings.campaign_ttl_seconds)
        return send_id

    def send_target(self, send_id: str) -> tuple[str, str] | None:
        """(campaign id, recipient hash) of a send id, or None when unknown or expired."""
        value = self.client.get(STATUS_CALLBACK_PREFIX + send_id)
        if not value:
            return None
        campaign_id, _, recipient = (value.decode() if isinstance(value, bytes) else value).partition(" ")
        return campaign_id, recipient

    def record_status(self, campaign_id: str, recipient: str, status: str, sid: str = "", error: str = "") -> bool:
        """A status from Twilio's callback (or the worker); ignored unless it moves forward."""
        status = {"queued": "queued_at_twilio"}.get(status, status)
        if status not in RANK:
            return False
        record = {"s": status, "r": RANK[status], "sid": sid, "at": time.time()}
        if error:
            record["err"] = error
        moved = bool(self.client.eval(_FORWARD, 1, recipients_key(campaign_id), recipient, json.dumps(record), RANK[status]))
        if error and error.isdigit() and int(error) in OPTED_OUT_ERRORS:
            self.subscriptions.stop(recipient, reason="carrier")
        return moved


def alert_queue(settings: Settings, client: redis.Redis | None = None) -> Queue:
    if not settings.redis_url:
        raise OutboundNotConfigured("REDIS_URL is not set: broadcasts are queued in Redis")
    # RQ stores pickled bytes: it needs a connection without decode_responses.
    return Queue(QUEUE_NAME, connection=redis.Redis.from_url(settings.redis_url))


def broadcasts_for(settings: Settings, content: ContentBase | None = None) -> Broadcasts:
    """Everything a broadcast needs, built from settings (CLI, worker)."""
    store = create_store(settings.redis_url) if settings.redis_url else None
    if store is None or store.kind != "redis":
        raise OutboundNotConfigured("REDIS_URL is not set: subscriptions and broadcasts live in Redis")
    fernet: Fernet = cipher(settings)
    content = content or ContentBase(settings.responses_dir, settings.locales_dir, SUPPORTED_LANGUAGES)
    subscriptions = Subscriptions(store.client, fernet, settings.subscription_ttl_seconds)
    return Broadcasts(settings, store.client, content, subscriptions)


# -- the worker side -------------------------------------------------------------


class RateLimiter:
    """At most ``rate`` sends per second across every worker (a counter per time slot in Redis)."""

    def __init__(self, client: redis.Redis, rate: float):
        self.client = client
        self.rate = rate

    def wait(self) -> None:
        slot_length = 1.0 if self.rate >= 1 else 1.0 / self.rate
        allowed = int(self.rate) if self.rate >= 1 else 1
        while True:
            now = time.time()
            slot = int(now / slot_length)
            key = f"{RATE_PREFIX}{slot}"
            pipe = self.client.pipeline()
            pipe.incr(key)
            pipe.expire(key, int(slot_length) + 2)
            count = pipe.execute()[0]
            if count <= allowed:
                return
            time.sleep(max(0.001, (slot + 1) * slot_length - now))


_CONTEXT: dict[str, Broadcasts] = {}


def worker_broadcasts() -> Broadcasts:
    """One ``Broadcasts`` per worker process (content and connections are reused across jobs)."""
    if "broadcasts" not in _CONTEXT:
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        _CONTEXT["broadcasts"] = broadcasts_for(load_settings(os.environ))
    return _CONTEXT["broadcasts"]


def send_alert_batch(campaign_id: str, recipient_keys: list[str]) -> dict:
    """RQ job: send one campaign's alert to a batch of subscribers, each at most once."""
    broadcasts = worker_broadcasts()
    campaign = broadcasts.get(campaign_id)
    sender = AlertSender(broadcasts, campaign)
    outcome = collections.Counter(sender.send(key) for key in recipient_keys)
    if outcome["retry"]:
        # RQ runs the job again after a backoff; finished recipients are skipped then.
        raise TemporarySendError(f"{outcome['retry']} alert(s) hit a temporary error")
    return dict(outcome)


class AlertSender:
    """Sends one campaign's alert to one recipient: claim, check, send, record."""

    def __init__(self, broadcasts: Broadcasts, campaign: Campaign):
        self.broadcasts = broadcasts
        self.campaign = campaign
        self.settings = broadcasts.settings
        self.client = broadcasts.client
        self.twilio = twilio_client(self.settings)
        self.limiter = RateLimiter(self.client, self.settings.broadcast_rate_per_second)
        self.rkey = recipients_key(campaign.id)

    def send(self, recipient: str) -> str:
        now = time.time()
        claim = json.dumps({"s": "claimed", "r": RANK["claimed"], "at": now})
        previous = self.client.eval(_CLAIM, 1, self.rkey, recipient, claim, now, self.settings.broadcast_stale_seconds)
        if not previous:
            return "already"
        subscriber = self.broadcasts.subscriptions.get(recipient)
        if subscriber is None or subscriber.status != "active" or not subscriber.address_token:
            return self._finish(recipient, "skipped", why="opted_out")
        text = self.campaign.texts.get(subscriber.lang)
        if text is None:
            return self._finish(recipient, "skipped", why="no_text")
        address = self.broadcasts.subscriptions.address_of(subscriber)
        body = alert_text(self.broadcasts.content, text, subscriber.lang, subscriber.channel)
        earlier = json.loads(previous)
        if earlier["s"] in ("claimed", "retry"):
            # A timeout or a dead worker leaves it unknown whether Twilio took the message.
            found = self._already_sent(address, body, float(earlier.get("at") or now))
            if found:
                return self._finish(recipient, "submitted", sid=found)
        return self._deliver(recipient, subscriber, address, body)

    def _deliver(self, recipient: str, subscriber: Subscriber, address: str, body: str) -> str:
        options = self._message_options(subscriber, body)
        if options is None:
            return self._finish(recipient, "skipped", why="no_whatsapp_template")
        self.limiter.wait()
        now = time.time()
        try:
            message = self.twilio.messages.create(to=address, **options)
        except (TwilioRestException, requests.RequestException) as exc:
            error = send_error(exc)
            if isinstance(error, PermanentSendError):
                code = str(error.code or error.status)
                if error.code in OPTED_OUT_ERRORS:
                    self.broadcasts.subscriptions.stop(recipient, reason="carrier")
                return self._finish(recipient, "failed", err=code)
            # "at" is when this try began: a later check asks Twilio what it got since then.
            self.client.hset(self.rkey, recipient, json.dumps({"s": "retry", "r": RANK["retry"], "at": now}))
            return "retry"
        self.broadcasts.record_status(self.campaign.id, recipient, "submitted", sid=message.sid or "")
        return "sent"

    def _message_options(self, subscriber: Subscriber, body: str) -> dict | None:
        """Body for SMS and open WhatsApp windows; the approved template outside the window."""
        settings = self.settings
        options: dict = {}
        if settings.public_url:
            send_id = self.broadcasts.new_send_id(self.campaign.id, subscriber.key)
            options["status_callback"] = f"{settings.public_url}/sms/status?s={send_id}"
        options.update(sender_options(settings, "whatsapp:" if subscriber.channel == "whatsapp" else ""))
        if subscriber.channel == "whatsapp":
            if time.time() - subscriber.last_inbound > WHATSAPP_WINDOW_SECONDS:
                template = settings.whatsapp_alert_templates.get(subscriber.lang)
                if template is None:
                    return None
                options["content_sid"] = template
                options["content_variables"] = json.dumps({"1": self.campaign.texts[subscriber.lang]})
                return options
        options["body"] = body
        return options

    def _already_sent(self, address: str, body: str, claimed_at: float) -> str | None:
        """After a worker died mid-send: did Twilio get that message? Its MessageSid if so."""
        since = datetime.datetime.fromtimestamp(claimed_at - 60, datetime.timezone.utc)
        try:
            for message in self.twilio.messages.list(to=address, date_sent_after=since, limit=50):
                if message.body == body or message.body is None:
                    return message.sid
        except (TwilioRestException, requests.RequestException) as exc:
            raise send_error(exc) from None
        return None

    def _finish(self, recipient: str, status: str, **extra) -> str:
        record = {"s": status, "r": RANK[status], "at": time.time(), **extra}
        self.client.eval(_FORWARD, 1, self.rkey, recipient, json.dumps(record), RANK[status])
        return "skipped" if status == "skipped" else ("failed" if status == "failed" else "sent")

