"""A Rasa tokenizer for messages that mix scripts: whitespace words, Chinese by Jieba.

Rasa's WhitespaceTokenizer leaves a whole Chinese sentence as one token,
because Chinese has no spaces; its JiebaTokenizer is meant for all-Chinese
text. People text in eight languages and mix them ("我哥哥有ICE hold"), so
this tokenizer splits on whitespace first and then cuts any run of Chinese
characters into words with Jieba. Loaded by intents/config.yml; runs in
Rasa's own env (jieba is in requirements-rasa.txt).

With ``fold_accents: true`` each token's lemma (what the CountVectors
featurizers count when ``use_lemma`` is on, their default) is folded: lower
case, accents and Arabic vowel marks removed, Arabic alef forms unified. Texts
arrive with and without accents ("policía", "policia", "detenção",
"detencao", "bảo lãnh", "bao lanh"); folded, both spellings count as one word.
The token text itself is unchanged, so entity spans and case features stay.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
#: Letters that Unicode does not decompose into base + mark, and Arabic spelling variants.
_FOLD_LETTERS = str.maketrans({"đ": "d", "ø": "o", "ł": "l", "ß": "ss", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
                               "ى": "ي", "ـ": None})


def fold(word: Text) -> Text:
    """Lower case without accents or Arabic vowel marks ("Détention" -> "detention")."""
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_FOLD_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MixedScriptTokenizer(WhitespaceTokenizer):
    """Whitespace tokens, with Chinese runs segmented into words by Jieba."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        import jieba

        # Load Jieba's dictionary when the model loads (about a second), not on the
        # first Chinese message: that message would miss the webhook's 1.5 s budget.
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**WhitespaceTokenizer.get_default_config(), "fold_accents": False}

    @staticmethod
    def not_supported_languages() -> None:
        return None

    @staticmethod
    def required_packages() -> List[Text]:
        return ["jieba"]

    def remove_emoji(self, text: Text) -> Text:
        # Rasa's emoji pattern spans U+24C2-U+1F251, which includes every Chinese
        # character: without this, whole Chinese words would be dropped as "emoji".
        if _HAN.search(text):
            return text
        return super().remove_emoji(text)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba  # Rasa's env only; the dictionary was loaded in __init__

        tokens: List[Token] = []
        folding = self._config.get("fold_accents")
        for token in super().tokenize(message, attribute):
            if not _HAN.search(token.text):
                if folding:
                    token.lemma = fold(token.text)
                tokens.append(token)
                continue
            for word, start, _end in jieba.tokenize(token.text):
                if word.strip():
                    tokens.append(Token(word, token.start + start))
        return self._apply_token_pattern(tokens) if self._config.get("token_pattern") else tokens
