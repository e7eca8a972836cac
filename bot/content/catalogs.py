"""Gettext catalogs for translators: extract English texts, update ``.po`` files.

``python -m bot.content.catalogs update`` (``make translations``) writes
``locales/messages.pot`` from ``responses/`` and brings every
``locales/<lang>/LC_MESSAGES/messages.po`` up to date. Entries are matched by
their key (``msgctxt``): when the English text of a key changed, its old
translation is kept but marked fuzzy (stale) with the previous English text
beside it, which Poedit and Weblate show as "needs review".

``extract_responses`` is also a Babel extraction method (see ``babel.cfg``),
so ``pybabel extract -F babel.cfg`` gives the same template.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.config import PROJECT_ROOT
from bot.content.texts import TOPIC_FIELDS, CATALOG_DOMAIN, normalize_block
from bot.language.languages import SUPPORTED_LANGUAGES

PROJECT = "kyr-bot"


def extract_responses(fileobj, keywords, comment_tags, options):
    """Babel extraction method for ``responses/**.yml``: yields ``pgettext(key, text)``."""
    data = yaml.safe_load(io.TextIOWrapper(fileobj, encoding="utf-8")) or {}
    if "intent" in data:
        for field in TOPIC_FIELDS:
            if data.get(field):
                yield 0, "pgettext", (f"{data['intent']}.{field}", normalize_block(data[field])), []
        for state, variant in (data.get("states") or {}).items():
            for field in ("first", "more"):
                if isinstance(variant, dict) and variant.get(field):
                    key = f"{data['intent']}.states.{state}.{field}"
                    yield 0, "pgettext", (key, normalize_block(variant[field])), []
    for key, text in (data.get("messages") or {}).items():
        yield 0, "pgettext", (f"system.{key}", normalize_block(text)), []


def source_entries(responses_dir: Path) -> list[tuple[str, str]]:
    """``[(key, english)]`` for every translatable text, in a stable order."""
    entries: list[tuple[str, str]] = []
    paths = sorted((responses_dir / "topics").glob("*.yml")) + [responses_dir / "system.yml"]
    for path in paths:
        with path.open("rb") as handle:
            for _, _, (key, text), _ in extract_responses(handle, None, None, None):
                entries.append((key, text))
    return entries


def build_template(entries: list[tuple[str, str]]) -> Catalog:
    template = Catalog(project=PROJECT, domain=CATALOG_DOMAIN)
    for key, text in entries:
        template.add(text, context=key)
    return template


def update_catalog(existing: Catalog | None, entries: list[tuple[str, str]], lang: str) -> Catalog:
    """A catalog with one entry per source text, reusing translations by key."""
    by_key = {}
    if existing is not None:
        for message in existing:
            if message.id and message.context:
                by_key[message.context] = message
    updated = Catalog(locale=lang, project=PROJECT, domain=CATALOG_DOMAIN)
    updated.fuzzy = False  # a fuzzy header makes pybabel compile skip the whole catalog
    for key, text in entries:
        old = by_key.get(key)
        if old is None:
            updated.add(text, "", context=key)
        elif old.id == text:
            updated.add(text, old.string, context=key, flags=old.flags)
        else:
            flags = set(old.flags) | ({"fuzzy"} if old.string else set())
            updated.add(text, old.string, context=key, flags=flags, previous_id=[old.id])
    return updated


def catalog_path(locales_dir: Path, lang: str) -> Path:
    return locales_dir / lang / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.po"


def read_catalog(path: Path, lang: str) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, include_previous=True, sort_output=False)


def compile_catalog(path: Path, lang: str) -> Path:
    """Write the binary ``.mo`` beside a ``.po`` (fuzzy entries left out), as ``pybabel compile`` does.

    The bot itself reads the ``.po`` files; the ``.mo`` files are for tools
    that expect them. Compiling also proves each catalog is well-formed.
    """
    catalog = read_catalog(path, lang)
    target = path.with_suffix(".mo")
    with target.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return target


def update_all(responses_dir: Path, locales_dir: Path, languages=SUPPORTED_LANGUAGES) -> None:
    """Extract the English texts, update every catalog, and compile each one."""
    entries = source_entries(responses_dir)
    write_catalog(build_template(entries), locales_dir / f"{CATALOG_DOMAIN}.pot")
    for lang in languages:
        if lang == "en":
            continue
        path = catalog_path(locales_dir, lang)
        write_catalog(update_catalog(read_catalog(path, lang), entries, lang), path)
        compile_catalog(path, lang)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update"])
    parser.add_argument("--responses", type=Path, default=PROJECT_ROOT / "responses")
    parser.add_argument("--locales", type=Path, default=PROJECT_ROOT / "locales")
    args = parser.parse_args(argv)
    update_all(args.responses, args.locales)
    print(f"catalogs updated under {args.locales}; translate empty or fuzzy entries, then run make check-content")
    return 0


if __name__ == "__main__":
    sys.exit(main())
