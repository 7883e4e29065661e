import json
import pkgutil

from helloworld.translator.translator import LanguageTranslator


class Greeter:
    def __init__(self, language: str = "es") -> None:
        data = pkgutil.get_data(__name__, "translations.json")
        assert data is not None
        self._translator = LanguageTranslator(json.loads(data.decode()))
        self._language = language

    def greet(self, name: str) -> str:
        return f"{self._translator.translate(self._language, 'hello').capitalize()}, {name}!"
