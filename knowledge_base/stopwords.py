"""Words that carry little meaning in a support question, per locale.

They still take part in matching, but with a small weight, so that "где мой заказ" and
"заказ" find the same entry and a greeting alone never looks like a question.
"""

from __future__ import annotations

_RU = """
а без бы был была были было быть в вам вас ваш ваша ваше вашего вашей вашем ваши вашу
во вот вы да для до добрый доброе добрый день его ее если есть еще же за здравствуйте
здрасте здравствуй и из или им их к как какая какие каким какой каком какую ко
ли либо мне меня мной мое моего моей моем моему мои моим моих мой мою моя мы на нам нас
наш наша наше нашего нашей наши не него нее нет ни ним них ну о об он она они оно от
очень по под пожалуйста подскажите подскажи при привет про с скажите скажи со спасибо так
также там тебе тебя то того тоже той только том ты у уже хочу хотел хотела хотим хотелось
чем что чтобы эта эти это этого этой этом этот эту я день вечер утро доброго
"""

_EN = """
a about am an and any are as at be been being but by can could did do does dont for from
good had has have hello hey hi i if im in into is it its just me morning afternoon evening
my of on or our please so some than thank thanks that the their them then there these they
this those to us want was we were will with would you your yours ive id ill
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "ru": frozenset(_RU.split()),
    "en": frozenset(_EN.split()),
}


def stop_words_for(locale: str) -> frozenset[str]:
    return STOP_WORDS.get(locale, frozenset())
