class LanguageTranslator:
    def __init__(self, translations: dict) -> None:
        self._translations = translations

    def translate(self, language: str, phrase: str) -> str:
        return self._translations[phrase][language]
