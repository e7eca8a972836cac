"""Getting a staff message to the person, and telling staff whether it arrived.

SMS and WhatsApp go through the outbound RQ queue (retries, backoff, failed
jobs kept); the RQ job id is stored with the transcript entry so the console
can show queued / sent / failed with Twilio's error code. Web-chat visitors
get the message through their outbox, which the chat page polls.
"""

from __future__ import annotations

import dataclasses
import re

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job

from bot.config import Settings
from bot.handoff.outbox import WebOutbox
from bot.outreach.outbound import enqueue_message

_ERROR_CODE = re.compile(r"error (\d+)")
#: RQ job status → what staff see.
_LABELS = {"queued": "queued", "deferred": "queued", "scheduled": "retrying", "started": "sending",
           "finished": "sent", "failed": "failed", "stopped": "failed", "canceled": "failed"}


@dataclasses.dataclass(frozen=True)
class SendState:
    label: str  # queued, retrying, sending, sent, failed, unknown
    error_code: str | None = None


class Delivery:
    def __init__(self, settings: Settings, outbox: WebOutbox):
        self.settings = settings
        self.outbox = outbox
        self._rq = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None

    def send(self, channel: str, sender: str, address: str | None, text: str) -> str | None:
        """Queue ``text`` for the person; the RQ job id for SMS/WhatsApp, None for the web chat."""
        if channel == "web":
            self.outbox.push(sender, text)
            return None
        if not address:
            raise ValueError("no number to send to")
        # The job lives no longer than the transcript that names it, so DELETE can always find it.
        return enqueue_message(self.settings, address, text, self.settings.handoff_transcript_ttl_seconds).id

    def forget(self, sender: str, job_ids: list[str]) -> None:
        """DELETE: drop the person's web outbox and their send jobs (queued, retrying or failed).

        RQ jobs hold the encrypted number and the text for days so failures can be
        retried and shown to staff; every send is in a transcript entry (``job``),
        so a person who erases their data takes the jobs too.
        """
        self.outbox.erase(sender)
        for job_id in set(job_ids) if self._rq is not None else ():
            try:
                Job.fetch(job_id, connection=self._rq).delete()
            except NoSuchJobError:
                continue

    def state(self, job_id: str | None) -> SendState:
        if job_id is None:
            return SendState("sent")
        try:
            job = Job.fetch(job_id, connection=self._rq)
        except (NoSuchJobError, redis.RedisError):
            return SendState("unknown")
        status = job.get_status(refresh=False)
        label = _LABELS.get(str(getattr(status, "value", status) or ""), "unknown")
        if label != "failed":
            return SendState(label)
        result = job.latest_result()
        match = _ERROR_CODE.search(result.exc_string or "") if result else None
        return SendState("failed", match.group(1) if match else None)
