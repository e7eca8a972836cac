"""Deployment files are valid and complete; production refuses missing secrets."""

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot import create_app
from bot.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def compose_schema() -> dict:
    import json

    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text())


def app_variables() -> set[str]:
    """Every environment variable bot/config.py reads."""
    source = (ROOT / "bot" / "config.py").read_text()
    names = set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'_(?:int|float|optional)\(environ, "([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'^\s+"([A-Z][A-Z0-9_]+)": "', source, re.MULTILINE))  # PRODUCTION_* tables
    return names


def env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_compose_file_is_valid_against_the_compose_spec():
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(document, compose_schema())
    services = document["services"]
    assert {"redis", "rasa", "webhook", "train"} <= set(services)
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendfsync everysec" in redis_command and "--maxmemory-policy noeviction" in redis_command
    # Memory is bounded, and nothing (queues, handoffs, sessions) is evicted to make room.
    assert re.search(r"--maxmemory \$\{REDIS_MAXMEMORY:-\d+[mg]b\}", redis_command), redis_command
    assert "--auto-aof-rewrite-min-size 16mb" in redis_command  # deleted records leave disk sooner
    assert services["rasa"]["image"] == "rasa/rasa:3.6.21-full"
    assert "ports" not in services["rasa"], "Rasa must not be exposed publicly"
    assert services["webhook"]["depends_on"]["rasa"]["condition"] == "service_healthy"


def test_compose_variables_are_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", text))
    assert used <= env_example_variables(), used - env_example_variables()


def test_every_app_variable_is_documented():
    names = app_variables()
    assert {"TWILIO_AUTH_TOKEN", "ID_HASH_KEY", "REDIS_URL", "APP_ENV", "ALLOWED_ORIGINS"} <= names
    readme = (ROOT / "README.md").read_text()
    undocumented = {name for name in names if f"`{name}`" not in readme}
    assert not undocumented, f"README lacks {sorted(undocumented)}"
    missing = names - env_example_variables()
    assert not missing, f".env.example lacks {sorted(missing)}"


def production_env(**overrides):
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 32,
        "ID_HASH_KEY": "k" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "ENCRYPTION_KEY": "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PUBLIC_URL": "https://kyr.example.org",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ID_HASH_KEY", "TWILIO_AUTH_TOKEN", "ENCRYPTION_KEY", "REDIS_URL", "PUBLIC_URL"])
def test_production_refuses_to_start_without(missing):
    with pytest.raises(ConfigError, match=missing):
        create_app(production_env(**{missing: None}))


def test_production_refuses_placeholder_secrets():
    with pytest.raises(ConfigError, match="ID_HASH_KEY is a placeholder"):
        create_app(production_env(ID_HASH_KEY="change-me"))


def responses_copy(tmp_path, **hotline):
    """A copy of responses/ whose hotline entry is changed (a key set to None is removed)."""
    import shutil

    target = tmp_path / "responses"
    shutil.copytree(ROOT / "responses", target)
    path = target / "resources.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = data["placeholders"]["hotline"]
    entry.update({k: v for k, v in hotline.items() if v is not None})
    for key in [k for k, v in hotline.items() if v is None]:
        entry.pop(key, None)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def own_hotline(tmp_path):
    """Responses with the deployment's own verified hotline instead of the shipped sample."""
    return str(responses_copy(tmp_path, sample=None, verified=True, text="1-312-555-0199", label="Our hotline"))


def test_production_starts_with_real_secrets(tmp_path):
    app = create_app(production_env(RESPONSES_DIR=own_hotline(tmp_path)))
    assert app.extensions["kyr"].settings.app_env == "production"


def test_bad_values_are_named():
    with pytest.raises(ConfigError, match="RASA_TIMEOUT"):
        create_app({"RASA_TIMEOUT": "5"})
    with pytest.raises(ConfigError, match="ALLOWED_ORIGINS"):
        create_app({"ALLOWED_ORIGINS": "example.org"})
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app({"APP_ENV": "staging"})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY must be a Fernet key"):
        create_app({"ENCRYPTION_KEY": "not-a-fernet-key-but-long-enough"})


# -- #14 (December 2026 review): Rasa and Redis in docker-compose need credentials -------


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_rasa_requires_a_token_and_its_healthcheck_sends_it():
    rasa = compose_services()["rasa"]
    command = rasa["command"]
    assert "--enable-api" in command
    token = command[command.index("--auth-token") + 1]
    assert re.fullmatch(r"\$\{RASA_TOKEN:\?[^}]+\}", token), "compose must refuse to start without RASA_TOKEN"
    assert rasa["environment"]["RASA_TOKEN"].startswith("${RASA_TOKEN:?")
    assert "token=" in " ".join(rasa["healthcheck"]["test"]) and "RASA_TOKEN" in " ".join(rasa["healthcheck"]["test"])


def test_compose_redis_requires_a_password_that_the_app_and_worker_use():
    services = compose_services()
    command = services["redis"]["command"]
    password = command[command.index("--requirepass") + 1]
    assert re.fullmatch(r"\$\{REDIS_PASSWORD:\?[^}]+\}", password), "compose must refuse to start without REDIS_PASSWORD"
    assert services["redis"]["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")  # the healthcheck
    for name in ("webhook", "worker"):
        url = services[name]["environment"]["REDIS_URL"]
        assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", url), (name, url)


def test_production_refuses_a_placeholder_rasa_token(tmp_path):
    with pytest.raises(ConfigError, match="RASA_TOKEN is a placeholder"):
        create_app(production_env(RASA_TOKEN="change-me"))
    with pytest.raises(ConfigError, match="RASA_TOKEN may contain only"):
        create_app({"RASA_TOKEN": "has spaces & symbols"})
