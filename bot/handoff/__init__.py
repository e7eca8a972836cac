"""Handoff to hotline staff: the queue, the transcript, and what the bot does while people wait.

``build_gate`` wires the parts for one app. Handoff needs Redis (shared
queue, atomic claims), ``ENCRYPTION_KEY`` (numbers and transcripts are kept
encrypted) and ``STAFF_HOURS`` (someone to answer); without any of them it is
off and "talk to a person" gets ``system.handoff_unavailable``.
"""

from __future__ import annotations

from cryptography.fernet import Fernet

from bot.config import Settings


def off_reason(settings: Settings, store_kind: str) -> str | None:
    """Why handoff is off (shown in the console and logged), or None when it is on."""
    if store_kind != "redis":
        return "REDIS_URL is not set"
    if not settings.encryption_key:
        return "ENCRYPTION_KEY is not set"
    if settings.staff_hours is None:
        return "STAFF_HOURS is not set"
    return None


def build_desk(settings: Settings, client, content, answers=None):
    """The desk for the console and the engine (None when handoff is off)."""
    from bot.handoff.delivery import Delivery
    from bot.handoff.desk import HandoffDesk, WaitRules
    from bot.handoff.outbox import WebOutbox
    from bot.handoff.records import HandoffRecords
    from bot.handoff.stats import HandoffStats

    fernet = Fernet(settings.encryption_key.encode())
    records = HandoffRecords(client, fernet, idle_seconds=settings.handoff_idle_seconds,
                             transcript_ttl=settings.handoff_transcript_ttl_seconds)
    outbox = WebOutbox(client, fernet, settings.handoff_transcript_ttl_seconds)
    rules = WaitRules(told_minutes=settings.handoff_wait_minutes, max_wait_seconds=settings.handoff_max_wait_seconds,
                      reply_seconds=settings.handoff_reply_seconds,
                      line_notice_seconds=settings.handoff_line_notice_seconds,
                      web_open_per_origin=settings.webchat_open_handoffs_per_address)
    routed = None
    if answers is not None:
        def routed(location, lang):
            return answers.routed_values(location, lang, urgent=True)
    return HandoffDesk(records, Delivery(settings, outbox), HandoffStats(client), content,
                       settings.staff_hours, rules, routed)


def build_gate(settings: Settings, store, content, answers):
    """The engine's handoff gate, or None when handoff is off (see ``off_reason``)."""
    if off_reason(settings, store.kind):
        return None
    from bot.handoff.gate import HandoffGate

    return HandoffGate(build_desk(settings, store.client, content, answers), answers)
