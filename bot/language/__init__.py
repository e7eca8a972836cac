"""Language: the supported languages and detection, command keywords, opt-out phrases,
SMS segment counting."""
