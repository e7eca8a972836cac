"""A Rasa tokenizer for messages that mix scripts: whitespace words, Chinese by Jieba.

Rasa's WhitespaceTokenizer leaves a whole Chinese sentence as one token,
because Chinese has no spaces; its JiebaTokenizer is meant for all-Chinese
text. People text in eight languages and mix them ("我哥哥有ICE hold"), so
this tokenizer splits on whitespace first and then cuts any run of Chinese
characters into words with Jieba. Loaded by intents/config.yml; runs in
Rasa's own env (jieba is in requirements-rasa.txt).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


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
        for token in super().tokenize(message, attribute):
            if not _HAN.search(token.text):
                tokens.append(token)
                continue
            for word, start, _end in jieba.tokenize(token.text):
                if word.strip():
                    tokens.append(Token(word, token.start + start))
        return self._apply_token_pattern(tokens) if self._config.get("token_pattern") else tokens
