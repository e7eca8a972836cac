"""The outside services and the engine, built once per app by ``init_app``.

Nothing here runs at import time; ``create_app`` calls ``init_app`` and views
reach the objects through ``services()`` (Flask's ``current_app``).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging

from flask import Flask, current_app

from bot.content.answers import AnswerComposer
from bot.outreach.broadcasts import Broadcasts
from bot.config import ConfigError, Settings
from bot.content.texts import ContentBase
from bot.content.directory import Router, load_directory, urgent_hotline_problem
from bot.conversation.engine import ConversationEngine
from bot.language.detection import LanguageDetector
from bot.language.languages import SUPPORTED_LANGUAGES
from bot.content.location import LocationResolver
from bot.clients.nlu import RasaClient
from bot.clients.activity import DailyActivity
from bot.clients.store import Store, create_store
from bot.outreach.subscriptions import Subscriptions
from bot.handoff import build_gate, off_reason

log = logging.getLogger(__name__)
EXTENSION = "kyr"


@dataclasses.dataclass
class Services:
    settings: Settings
    store: Store
    nlu: RasaClient
    content: ContentBase
    router: Router
    engine: ConversationEngine
    #: Alerts (None without REDIS_URL and ENCRYPTION_KEY).
    broadcasts: Broadcasts | None = None


@functools.lru_cache(maxsize=1)
def location_resolver() -> LocationResolver:
    """Built on first use and shared: it only reads the checked-in ZIP index (bot/content/zipindex.json.gz)."""
    return LocationResolver()


def subscriptions_for(settings: Settings, store: Store) -> Subscriptions | None:
    """Alert sign-ups need Redis (shared, durable) and ENCRYPTION_KEY (numbers kept encrypted)."""
    if store.kind != "redis" or not settings.encryption_key:
        return None
    from cryptography.fernet import Fernet

    return Subscriptions(store.client, Fernet(settings.encryption_key.encode()), settings.subscription_ttl_seconds)


def build_services(settings: Settings) -> Services:
    store = create_store(settings.redis_url, settings.encryption_key)
    nlu = RasaClient(settings.rasa_url, settings.rasa_timeout, settings.rasa_token)
    content = ContentBase(settings.responses_dir, settings.locales_dir, SUPPORTED_LANGUAGES)
    resolver = location_resolver()
    router = Router(load_directory(settings.responses_dir / "directory.yml", resolver), content.resources)
    engine = ConversationEngine(
        content=content,
        answers=AnswerComposer(content, router),
        resolver=resolver,
        store=store,
        nlu=nlu,
        detector=LanguageDetector(),
        default_language=settings.default_language,
        state_ttl=settings.state_ttl_seconds,
        confidence_threshold=settings.nlu_confidence_threshold,
        topic_threshold=settings.nlu_topic_confidence_threshold,
        urgent_threshold=settings.nlu_urgent_confidence_threshold,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        subscriptions=subscriptions_for(settings, store),
        activity=DailyActivity(store.client, settings.report_retention_seconds) if store.kind == "redis" else None,
    )
    # Handoff to staff (None when off: needs REDIS_URL, ENCRYPTION_KEY and STAFF_HOURS).
    engine.handoff = build_gate(settings, store, content, engine.answers)
    subscriptions = engine.subscriptions
    broadcasts = Broadcasts(settings, store.client, content, subscriptions) if subscriptions else None
    return Services(settings, store, nlu, content, router, engine, broadcasts)


def check_content(settings: Settings, content: ContentBase) -> None:
    """Production refuses an untrusted urgent hotline; development says so. Stale answers are logged."""
    problem = urgent_hotline_problem(content.resources, settings.responses_dir / "resources.yml")
    if problem and settings.app_env == "production":
        raise ConfigError(f"APP_ENV=production refuses to start: {problem}")
    if problem:
        log.warning("urgent hotline: %s (development: starting anyway)", problem)
    stale = content.stale(datetime.date.today(), settings.content_max_age_days)
    if stale:
        log.warning(
            "%d answer(s) not reviewed in %d days (CONTENT_MAX_AGE_DAYS); make check-content lists them: %s",
            len(stale), settings.content_max_age_days, ", ".join(key for key, _ in stale),
        )


def init_app(app: Flask, settings: Settings) -> None:
    services_ = build_services(settings)
    check_content(settings, services_.content)
    app.extensions[EXTENSION] = services_
    if services_.store.kind == "memory":
        log.warning(
            "REDIS_URL is not set: using an in-memory store (this process only; "
            "conversations are forgotten on restart and not shared between workers)"
        )
    if services_.store.kind == "redis" and not settings.encryption_key:
        log.warning(
            "ENCRYPTION_KEY is not set: conversation sessions are stored in Redis unencrypted, "
            "and Redis's append-only file keeps them on disk after they are deleted (production requires the key)"
        )
    if settings.ephemeral_keys:
        log.warning(
            "SECRET_KEY or ID_HASH_KEY is not set: using random keys for this process only; "
            "set both in production so sessions survive restarts"
        )
    if services_.engine.subscriptions is None:
        log.warning("alerts are off: sign-ups need REDIS_URL and ENCRYPTION_KEY")
    if services_.engine.handoff is None:
        log.warning("handoff to staff is off: %s", off_reason(settings, services_.store.kind))
    if not settings.twilio_auth_token:
        log.warning("TWILIO_AUTH_TOKEN is not set: /sms refuses every request (503) until it is")


def services() -> Services:
    return current_app.extensions[EXTENSION]
