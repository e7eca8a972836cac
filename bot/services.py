"""The outside services and the engine, built once per app by ``init_app``.

Nothing here runs at import time; ``create_app`` calls ``init_app`` and views
reach the objects through ``services()`` (Flask's ``current_app``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging

from flask import Flask, current_app

from bot.answers import AnswerComposer
from bot.config import Settings
from bot.content import ContentBase
from bot.directory import Router, load_directory
from bot.engine import ConversationEngine
from bot.languages import SUPPORTED_LANGUAGES, LanguageDetector
from bot.location import LocationResolver
from bot.nlu import RasaClient
from bot.store import Store, create_store

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


@functools.lru_cache(maxsize=1)
def location_resolver() -> LocationResolver:
    """Built on first use and shared: it only indexes the zipcodes package's static data."""
    return LocationResolver()


def build_services(settings: Settings) -> Services:
    store = create_store(settings.redis_url)
    nlu = RasaClient(settings.rasa_url, settings.rasa_timeout)
    content = ContentBase(settings.responses_dir, settings.locales_dir, SUPPORTED_LANGUAGES)
    resolver = location_resolver()
    router = Router(load_directory(settings.responses_dir / "directory.yml", resolver))
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
        rate_limit_per_minute=settings.rate_limit_per_minute,
    )
    return Services(settings, store, nlu, content, router, engine)


def init_app(app: Flask, settings: Settings) -> None:
    services_ = build_services(settings)
    app.extensions[EXTENSION] = services_
    if services_.store.kind == "memory":
        log.warning(
            "REDIS_URL is not set: using an in-memory store (this process only; "
            "conversations are forgotten on restart and not shared between workers)"
        )
    if settings.ephemeral_keys:
        log.warning(
            "SECRET_KEY or ID_HASH_KEY is not set: using random keys for this process only; "
            "set both in production so sessions survive restarts"
        )
    if not settings.twilio_auth_token:
        log.warning("TWILIO_AUTH_TOKEN is not set: /sms refuses every request (503) until it is")


def services() -> Services:
    return current_app.extensions[EXTENSION]
