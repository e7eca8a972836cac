"""All configuration, read from the environment in one place.

Nothing else in the package reads ``os.environ``: the app factory calls
``load_settings()`` once and stores the result on the Flask app, so tests can
build an app from a plain dict and two apps can run side by side.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Longest time we wait for Rasa. Twilio waits 15 s for the whole reply; the
#: person should get an answer in about a second even when Rasa is stalled.
MAX_RASA_TIMEOUT = 2.0


class ConfigError(ValueError):
    """A configuration value is present but unusable."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Typed settings. Field names match the environment variables (lower case)."""

    secret_key: str
    id_hash_key: str
    twilio_auth_token: str | None
    public_url: str | None
    redis_url: str | None
    rasa_url: str
    rasa_timeout: float
    state_ttl_seconds: int
    dedupe_ttl_seconds: int
    nlu_confidence_threshold: float
    default_region: str
    default_language: str
    responses_dir: Path
    locales_dir: Path
    log_level: str
    #: True when ID_HASH_KEY/SECRET_KEY were generated for this process only.
    ephemeral_keys: bool = False
    #: Messages per sender per minute before the bot sends one notice and then waits.
    rate_limit_per_minute: int = 20
    #: New web chats (no valid token) one client address may start per hour (counted in Redis).
    webchat_new_sessions_per_hour: int = 30
    #: Web-chat conversations from one client address that may wait for staff at once.
    webchat_open_handoffs_per_address: int = 3
    #: Token Rasa was started with (``--auth-token``); sent as ``?token=`` on every call.
    rasa_token: str | None = None
    #: Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    trusted_proxy_hops: int = 0
    #: Fernet key that encrypts phone numbers and texts in outbound jobs, and sessions in Redis.
    encryption_key: str | None = None
    #: Outbound sending through Twilio's REST API.
    twilio_account_sid: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    outbound_timeout: float = 10.0
    outbound_retry_intervals: tuple[int, ...] = (5, 30, 120)
    #: "development" (default) or "production" (refuses to start without real secrets).
    app_env: str = "development"
    #: Origins (scheme://host[:port]) allowed to embed the web chat and call /api/chat.
    allowed_origins: tuple[str, ...] = ()
    #: Outreach: how long an alert subscription (or a record of its STOP) is kept.
    subscription_ttl_seconds: int = 365 * 86400
    #: Outreach: how long a broadcast's progress and per-recipient status are kept.
    campaign_ttl_seconds: int = 30 * 86400
    #: Outreach: most alert messages per second across all workers (Twilio's sender limit).
    broadcast_rate_per_second: float = 1.0
    #: Outreach: recipients per RQ job.
    broadcast_batch_size: int = 50
    #: Outreach: a send claimed this long ago by a worker that never finished is checked again.
    broadcast_stale_seconds: int = 120
    #: WhatsApp sender ("whatsapp:+1…") when TWILIO_FROM_NUMBER is an SMS number.
    twilio_whatsapp_from: str | None = None
    #: Approved WhatsApp template (ContentSid) per language, for alerts outside the 24-hour window.
    whatsapp_alert_templates: dict[str, str] = dataclasses.field(default_factory=dict)
    #: A topic's answer needs this confidence (a wrong answer is worse than the menu; BENCHMARKS.md
    #: "Wrong-topic answers"); urgent topics (their answers start with the hotline) need less.
    nlu_topic_confidence_threshold: float = 0.85
    nlu_urgent_confidence_threshold: float = 0.7
    #: Handoff to hotline staff (bot/handoff): weekly hours in STAFF_TIMEZONE; None = handoff off.
    staff_hours: Any = None
    #: Days after its ``reviewed`` date that an answer counts as stale (warned at start-up, /healthz).
    content_max_age_days: int = 120
    #: Minutes a person is told they will wait for staff ({minutes} in system.handoff_queued).
    handoff_wait_minutes: int = 15
    #: A handoff with no message from either side for this long returns to the bot.
    handoff_idle_seconds: int = 3600
    #: How long a transcript is kept after its handoff ends.
    handoff_transcript_ttl_seconds: int = 24 * 3600
    #: Nobody claimed a waiting person for this long: tell them, give the hotline, the bot takes over.
    handoff_max_wait_seconds: int = 30 * 60
    #: A claimed person unanswered this long gets one "a person is reading your message" notice.
    handoff_reply_seconds: int = 10 * 60
    #: While waiting, "you are #3 in line" is said at most once per this many seconds.
    handoff_line_notice_seconds: int = 5 * 60
    #: Staff accounts expire this long after their last login (every key has a TTL).
    staff_account_ttl_seconds: int = 180 * 86400
    #: Failed console logins per username (and 4x per address) in one window before refusing.
    console_login_attempts: int = 5
    console_login_window_seconds: int = 900
    #: After that many failures a username is slowed down, not locked: one attempt per this many seconds.
    console_login_slowdown_seconds: int = 60
    #: A console login lasts this long.
    console_session_seconds: int = 12 * 3600
    #: Console session cookie only over HTTPS (browsers also allow it on http://localhost).
    console_secure_cookies: bool = True
    # -- voice line (bot/channels/voice) --
    #: On-call staff number per language, E.164 ({"en": "+1312…"}): 0, "a person" or an urgent topic dials it.
    voice_staff_numbers: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Seconds a staff phone rings before the caller hears the hotline and the callback offer.
    voice_dial_timeout: int = 20
    #: The one regional tag Twilio's speech recognition uses for Arabic callers (no pan-Arabic tag exists).
    voice_arabic_language: str = "ar-EG"
    # -- the console for a hotline team (issue #19) --
    #: Every console login needs a TOTP code; accounts without one must enrol first.
    console_require_2fa: bool = False
    #: How long the console's audit log keeps an entry.
    audit_retention_seconds: int = 365 * 86400
    #: How long the daily counts of what the bot did (reports, /console/stats.csv) are kept.
    report_retention_seconds: int = 400 * 86400
    #: Where ``make run`` writes how far the NLU model's training is (/healthz, the chat banner read it).
    nlu_status_file: Path = PROJECT_ROOT / ".run" / "nlu-status.json"


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _fernet_key(environ: Mapping[str, str]) -> str | None:
    key = _optional(environ, "ENCRYPTION_KEY")
    if key is None or key.lower() in PLACEHOLDER_SECRETS:
        return None
    from cryptography.fernet import Fernet

    try:
        Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "ENCRYPTION_KEY must be a Fernet key: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from exc
    return key


def _intervals(environ: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError as exc:
        raise ConfigError(f"{name} must be comma-separated seconds, like 5,30,120") from exc
    if any(value < 0 for value in values):
        raise ConfigError(f"{name} must not be negative")
    return values


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _rasa_token(environ: Mapping[str, str]) -> str | None:
    """RASA_TOKEN goes into a URL query (Rasa's ``?token=``): refuse characters that would need quoting."""
    token = _optional(environ, "RASA_TOKEN")
    if token is not None and not re.fullmatch(r"[A-Za-z0-9._~-]+", token):
        raise ConfigError("RASA_TOKEN may contain only letters, digits and . _ ~ - (use a hex or urlsafe token)")
    return token


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = (environ.get(name) or "").strip()
    return value or None


#: Values that mean "not configured" (the placeholders in .env.example).
PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "dev", "test", "xxx", "todo"})
#: What production refuses to start without, and why each matters.
PRODUCTION_SECRETS = {
    "SECRET_KEY": "signs web sessions",
    "ID_HASH_KEY": "keys the hashes that replace phone numbers",
    "TWILIO_AUTH_TOKEN": "checks that /sms requests come from Twilio",
    "ENCRYPTION_KEY": "encrypts phone numbers in outbound jobs and sessions at rest",
}
PRODUCTION_SETTINGS = {
    "REDIS_URL": "shared state across workers (the in-memory store is for development)",
    "PUBLIC_URL": "the URL Twilio signs behind your TLS proxy",
}


def check_production(environ: Mapping[str, str]) -> None:
    """Refuse to run in production with a missing or placeholder secret, naming it."""
    problems = []
    for name, why in {**PRODUCTION_SECRETS, **PRODUCTION_SETTINGS}.items():
        value = (environ.get(name) or "").strip()
        if not value:
            problems.append(f"{name} is not set ({why})")
        elif name in PRODUCTION_SECRETS and (value.lower() in PLACEHOLDER_SECRETS or len(value) < 16):
            problems.append(f"{name} is a placeholder or too short ({why}); use a long random value")
    if (environ.get("DEV_SECRETS_FILE") or "").strip():
        problems.append("DEV_SECRETS_FILE is set (make run's development secrets are never used in production); unset it")
    rasa_token = (environ.get("RASA_TOKEN") or "").strip()
    if rasa_token and (rasa_token.lower() in PLACEHOLDER_SECRETS or len(rasa_token) < 16):
        problems.append("RASA_TOKEN is a placeholder or too short (Rasa's --auth-token); use a long random value")
    if problems:
        raise ConfigError("APP_ENV=production refuses to start: " + "; ".join(problems))


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments and blank lines skipped), as ``make run`` writes them."""
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name.strip()):
            raise ConfigError(f"{path}:{number}: expected NAME=value")
        values[name.strip()] = value.strip()
    return values


def with_dev_secrets(environ: Mapping[str, str]) -> Mapping[str, str]:
    """Development only: fill unset variables from ``DEV_SECRETS_FILE`` (``make run`` writes it).

    Sessions, staff accounts and encrypted jobs survive a restart of ``make run``
    because its keys are generated once and kept there. The environment always
    wins. ``load_settings`` never calls this in production (and refuses the variable there).
    """
    path = _optional(environ, "DEV_SECRETS_FILE")
    if path is None:
        return environ
    try:
        stored = read_env_file(Path(path))
    except OSError as exc:
        raise ConfigError(f"DEV_SECRETS_FILE {path} cannot be read ({exc.strerror}); make run creates it") from None
    return {**stored, **{name: value for name, value in environ.items() if value}}


@dataclasses.dataclass(frozen=True)
class DevStackOptions:
    """Where ``make run`` keeps its development data (bot/devstack.py); unused in production."""

    run_dir: Path
    redis_port: int


def load_devstack_options(environ: Mapping[str, str]) -> DevStackOptions:
    port = _int(environ, "DEV_REDIS_PORT", 6380)
    if not 0 < port < 65536:
        raise ConfigError(f"DEV_REDIS_PORT must be a TCP port, got {port}")
    return DevStackOptions(Path(_optional(environ, "RUN_DIR") or PROJECT_ROOT / ".run"), port)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build ``Settings`` from an environment mapping (``os.environ`` or a test dict)."""
    app_env = (environ.get("APP_ENV") or "development").strip().lower()
    if app_env not in ("development", "production"):
        raise ConfigError(f"APP_ENV must be development or production, got {app_env!r}")
    if app_env == "production":
        check_production(environ)  # refuses DEV_SECRETS_FILE: production never opens it
    else:
        environ = with_dev_secrets(environ)
    rasa_port = _int(environ, "RASA_PORT", 5005)
    rasa_timeout = _float(environ, "RASA_TIMEOUT", 1.5)
    if not 0 < rasa_timeout <= MAX_RASA_TIMEOUT:
        raise ConfigError(f"RASA_TIMEOUT must be between 0 and {MAX_RASA_TIMEOUT} seconds")
    threshold = _unit(environ, "NLU_CONFIDENCE_THRESHOLD", 0.5)
    topic_threshold = _unit(environ, "NLU_TOPIC_CONFIDENCE_THRESHOLD", 0.85)
    urgent_threshold = _unit(environ, "NLU_URGENT_CONFIDENCE_THRESHOLD", 0.7)
    ttl_days = _float(environ, "STATE_TTL_DAYS", 30)
    if ttl_days <= 0:
        raise ConfigError("STATE_TTL_DAYS must be positive: every stored key needs a TTL")

    secret_key = _optional(environ, "SECRET_KEY")
    id_hash_key = _optional(environ, "ID_HASH_KEY")
    ephemeral = secret_key is None or id_hash_key is None
    public_url = _optional(environ, "PUBLIC_URL")
    default_language = (environ.get("DEFAULT_LANGUAGE") or "en").strip().lower()
    from bot.language.languages import SUPPORTED_LANGUAGES

    if default_language not in SUPPORTED_LANGUAGES:
        raise ConfigError(
            f"DEFAULT_LANGUAGE must be one of {', '.join(SUPPORTED_LANGUAGES)}, got {default_language!r}"
        )

    return Settings(
        secret_key=secret_key or secrets.token_hex(32),
        id_hash_key=id_hash_key or secrets.token_hex(32),
        twilio_auth_token=_optional(environ, "TWILIO_AUTH_TOKEN"),
        public_url=public_url.rstrip("/") if public_url else None,
        redis_url=_optional(environ, "REDIS_URL"),
        rasa_url=(_optional(environ, "RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
        rasa_timeout=rasa_timeout,
        state_ttl_seconds=int(ttl_days * 86400),
        dedupe_ttl_seconds=_int(environ, "DEDUPE_TTL_SECONDS", 86400),
        nlu_confidence_threshold=threshold,
        nlu_topic_confidence_threshold=max(threshold, topic_threshold),
        nlu_urgent_confidence_threshold=max(threshold, urgent_threshold),
        default_region=(environ.get("DEFAULT_REGION") or "US").strip().upper(),
        default_language=default_language,
        responses_dir=Path(environ.get("RESPONSES_DIR") or PROJECT_ROOT / "responses"),
        locales_dir=Path(environ.get("LOCALES_DIR") or PROJECT_ROOT / "locales"),
        log_level=(environ.get("LOG_LEVEL") or "INFO").upper(),
        ephemeral_keys=ephemeral,
        app_env=app_env,
        allowed_origins=_origins(environ.get("ALLOWED_ORIGINS")),
        rate_limit_per_minute=_positive(environ, "RATE_LIMIT_PER_MINUTE", 20),
        webchat_new_sessions_per_hour=_positive(environ, "WEBCHAT_NEW_SESSIONS_PER_HOUR", 30),
        webchat_open_handoffs_per_address=_positive(environ, "WEBCHAT_OPEN_HANDOFFS_PER_ADDRESS", 3),
        rasa_token=_rasa_token(environ),
        encryption_key=_fernet_key(environ),
        twilio_account_sid=_optional(environ, "TWILIO_ACCOUNT_SID"),
        twilio_from=_optional(environ, "TWILIO_FROM_NUMBER"),
        twilio_messaging_service_sid=_optional(environ, "TWILIO_MESSAGING_SERVICE_SID"),
        twilio_api_base_url=_optional(environ, "TWILIO_API_BASE_URL"),
        outbound_timeout=_float(environ, "OUTBOUND_TIMEOUT", 10.0),
        outbound_retry_intervals=_intervals(environ, "OUTBOUND_RETRY_INTERVALS", (5, 30, 120)),
        trusted_proxy_hops=_int(environ, "TRUSTED_PROXY_HOPS", 0),
        subscription_ttl_seconds=_positive(environ, "SUBSCRIPTION_TTL_DAYS", 365) * 86400,
        campaign_ttl_seconds=_positive(environ, "CAMPAIGN_TTL_DAYS", 30) * 86400,
        broadcast_rate_per_second=_positive_float(environ, "BROADCAST_RATE_PER_SECOND", 1.0),
        broadcast_batch_size=_positive(environ, "BROADCAST_BATCH_SIZE", 50),
        broadcast_stale_seconds=_positive(environ, "BROADCAST_STALE_SECONDS", 120),
        twilio_whatsapp_from=_optional(environ, "TWILIO_WHATSAPP_FROM"),
        whatsapp_alert_templates=_templates(environ.get("WHATSAPP_ALERT_TEMPLATES")),
        content_max_age_days=_positive(environ, "CONTENT_MAX_AGE_DAYS", 120),
        nlu_status_file=Path(_optional(environ, "NLU_STATUS_FILE")
                             or Path(_optional(environ, "RUN_DIR") or PROJECT_ROOT / ".run") / "nlu-status.json"),
        **_handoff_settings(environ),
        **_voice_settings(environ),
    )


#: Arabic tags Twilio's speech recognition lists (Google/experimental models); one is chosen per line.
VOICE_ARABIC_TAGS = ("ar-AE", "ar-BH", "ar-DZ", "ar-EG", "ar-IL", "ar-IQ", "ar-JO", "ar-KW", "ar-LB", "ar-MA",
                     "ar-OM", "ar-PS", "ar-QA", "ar-SA", "ar-TN", "ar-YE")


def _voice_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The voice line: staff numbers per language, how long they ring, the Arabic recognition tag."""
    timeout = _int(environ, "VOICE_DIAL_TIMEOUT", 20)
    if not 5 <= timeout <= 600:
        raise ConfigError(f"VOICE_DIAL_TIMEOUT must be between 5 and 600 seconds (Twilio's range), got {timeout}")
    arabic = (environ.get("VOICE_ARABIC_LANGUAGE") or "ar-EG").strip()
    if arabic not in VOICE_ARABIC_TAGS:
        raise ConfigError(f"VOICE_ARABIC_LANGUAGE must be one of {', '.join(VOICE_ARABIC_TAGS)}, got {arabic!r}")
    return dict(voice_staff_numbers=_staff_numbers(environ.get("VOICE_STAFF_NUMBERS"), environ),
                voice_dial_timeout=timeout, voice_arabic_language=arabic)


def _staff_numbers(raw: str | None, environ: Mapping[str, str]) -> dict[str, str]:
    """``VOICE_STAFF_NUMBERS=en:+13125550100,es:+13125550101`` → {"en": "+13125550100", ...} (E.164, checked)."""
    import phonenumbers

    from bot.language.languages import SUPPORTED_LANGUAGES

    region = (environ.get("DEFAULT_REGION") or "US").strip().upper()
    numbers = {}
    for item in (raw or "").replace(" ", "").split(","):
        if not item:
            continue
        lang, _, number = item.partition(":")
        lang = lang.lower()
        if lang not in SUPPORTED_LANGUAGES:
            raise ConfigError(f"VOICE_STAFF_NUMBERS entries look like es:+13125550100; unknown language in {item!r}")
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise ConfigError(f"VOICE_STAFF_NUMBERS: {lang} has no valid phone number (write +13125550100)")
        numbers[lang] = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return numbers


def _handoff_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Staffing hours, handoff timings and console login limits (bot/handoff, bot/console)."""
    from bot.timing.hours import HoursError, parse_hours

    try:
        hours = parse_hours(environ.get("STAFF_HOURS"), (environ.get("STAFF_TIMEZONE") or "UTC").strip())
    except HoursError as exc:
        raise ConfigError(str(exc)) from None
    secure = (environ.get("CONSOLE_SECURE_COOKIES") or "true").strip().lower()
    if secure not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"CONSOLE_SECURE_COOKIES must be true or false, got {secure!r}")
    window = _positive(environ, "CONSOLE_LOGIN_WINDOW_MINUTES", 15) * 60
    slowdown = _positive(environ, "CONSOLE_LOGIN_SLOWDOWN_SECONDS", 60)
    if slowdown > window:
        raise ConfigError(f"CONSOLE_LOGIN_SLOWDOWN_SECONDS ({slowdown}) must be at most "
                          f"CONSOLE_LOGIN_WINDOW_MINUTES in seconds ({window})")
    return dict(
        staff_hours=hours,
        handoff_wait_minutes=_positive(environ, "HANDOFF_WAIT_MINUTES", 15),
        handoff_idle_seconds=int(_positive_float(environ, "HANDOFF_IDLE_MINUTES", 60) * 60),
        handoff_transcript_ttl_seconds=int(_positive_float(environ, "HANDOFF_TRANSCRIPT_TTL_HOURS", 24) * 3600),
        handoff_max_wait_seconds=int(_positive_float(environ, "HANDOFF_MAX_WAIT_MINUTES", 30) * 60),
        handoff_reply_seconds=int(_positive_float(environ, "HANDOFF_REPLY_MINUTES", 10) * 60),
        handoff_line_notice_seconds=int(_positive_float(environ, "HANDOFF_LINE_NOTICE_MINUTES", 5) * 60),
        staff_account_ttl_seconds=_positive(environ, "STAFF_ACCOUNT_TTL_DAYS", 180) * 86400,
        console_login_attempts=_positive(environ, "CONSOLE_LOGIN_ATTEMPTS", 5),
        console_login_window_seconds=window,
        console_login_slowdown_seconds=slowdown,
        console_session_seconds=int(_positive_float(environ, "CONSOLE_SESSION_HOURS", 12) * 3600),
        console_secure_cookies=secure in ("true", "1", "yes"),
        **_team_console_settings(environ),
    )


def _team_console_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """2FA, the audit log and reports (bot/console, issue #19)."""
    require = (environ.get("CONSOLE_REQUIRE_2FA") or "false").strip().lower()
    if require not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"CONSOLE_REQUIRE_2FA must be true or false, got {require!r}")
    if require in ("true", "1", "yes") and not _fernet_key(environ):
        raise ConfigError("CONSOLE_REQUIRE_2FA needs ENCRYPTION_KEY (the TOTP secrets are kept encrypted with it)")
    return dict(
        console_require_2fa=require in ("true", "1", "yes"),
        audit_retention_seconds=_positive(environ, "AUDIT_RETENTION_DAYS", 365) * 86400,
        report_retention_seconds=_positive(environ, "REPORT_RETENTION_DAYS", 400) * 86400,
    )


def _unit(environ: Mapping[str, str], name: str, default: float) -> float:
    """A confidence between 0 and 1."""
    value = _float(environ, name, default)
    if not 0 <= value <= 1:
        raise ConfigError(f"{name} must be between 0 and 1")
    return value


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    value = _float(environ, name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0, got {value}")
    return value


def _templates(raw: str | None) -> dict[str, str]:
    """``WHATSAPP_ALERT_TEMPLATES=en:HX…,es:HX…`` → {"en": "HX…", "es": "HX…"}."""
    from bot.language.languages import SUPPORTED_LANGUAGES

    templates = {}
    for item in (raw or "").replace(" ", ",").split(","):
        if not item.strip():
            continue
        lang, _, sid = item.strip().partition(":")
        lang = lang.strip().lower()
        if lang not in SUPPORTED_LANGUAGES or not sid.strip().startswith("HX"):
            raise ConfigError(
                f"WHATSAPP_ALERT_TEMPLATES entries look like es:HX0123…, got {item.strip()!r}"
            )
        templates[lang] = sid.strip()
    return templates


def _origins(raw: str | None) -> tuple[str, ...]:
    origins = []
    for item in (raw or "").replace(" ", ",").split(","):
        item = item.strip().rstrip("/")
        if not item:
            continue
        if not (item.startswith("https://") or item.startswith("http://")):
            raise ConfigError(f"ALLOWED_ORIGINS entries must look like https://example.org, got {item!r}")
        origins.append(item)
    return tuple(origins)
