from helloworld.translator.translator import LanguageTranslator


def test_translate() -> None:
    assert LanguageTranslator({"hello": {"fr": "bonjour"}}).translate("fr", "hello") == "bonjour"
