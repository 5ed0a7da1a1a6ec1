"""Words that carry little meaning in a support question, per locale.

They still take part in matching, but with a small weight, so that "где мой заказ" and
"заказ" find the same entry and a greeting alone never looks like a question.
"""

from __future__ import annotations

_RU = """
а без бы был была были было быть в вам вас ваш ваша ваше вашего вашей вашем ваши вашу
вечер во вот вы да день для до доброго доброе добрый его ее если есть еще же за
здравствуй здравствуйте здрасте и из или им их к как какая какие каким какой каком какую
ко ли либо меня мне мной мое моего моей моем моему мои моим моих мой мою моя мы на нам
нас наш наша наше нашего нашей наши не него нее нет ни ним них ну о об он она они оно от
очень по под подскажи подскажите пожалуйста при привет про с скажи скажите со спасибо
так также там тебе тебя то того тоже той только том ты у уже утро хотел хотела хотелось
хотим хочу чем что чтобы эта эти это этого этой этом этот эту я
"""

_EN = """
a about afternoon am an and any are as at be been being but by can could did do does
evening for from good had has have hello hey hi how i id if ill im in into is it its ive
just me morning my of on or our please so some than thank thanks that the their them
then there these they this those to us want was we were what which will with would you
your yours
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "ru": frozenset(_RU.split()),
    "en": frozenset(_EN.split()),
}


def stop_words_for(locale: str) -> frozenset[str]:
    return STOP_WORDS.get(locale, frozenset())
