"""What the seeded people say: names, complaints, questions, replies and decisions, in Russian
and English."""

from __future__ import annotations

RU_NAMES = (
    ("Мария", "Кузнецова"),
    ("Алексей", "Попов"),
    ("Елена", "Васильева"),
    ("Сергей", "Новиков"),
    ("Ольга", "Морозова"),
    ("Игорь", "Волков"),
    ("Наталья", "Лебедева"),
    ("Андрей", "Козлов"),
    ("Татьяна", "Павлова"),
    ("Михаил", "Семёнов"),
    ("Юлия", "Егорова"),
    ("Николай", "Фёдоров"),
    ("Светлана", "Михайлова"),
    ("Павел", "Зайцев"),
)
EN_NAMES = (
    ("Oliver", "Brown"),
    ("Sophie", "Taylor"),
    ("Harry", "Wilson"),
    ("Grace", "Evans"),
    ("Jack", "Thomas"),
    ("Chloe", "Roberts"),
    ("Thomas", "Walker"),
    ("Lucy", "Wright"),
    ("George", "Hall"),
    ("Amelia", "Green"),
    ("Daniel", "King"),
    ("Ella", "Baker"),
)

#: What customers complain about, per category and language.
COMPLAINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "delivery": {
        "ru": (
            "Курьер опоздал на два дня и не предупредил, заказ ждал весь выходной.",
            "Посылку оставили у двери под дождём, коробка промокла насквозь.",
            "В заказе не хватает одного товара, хотя в накладной он есть.",
        ),
        "en": (
            "The courier was two days late and never called; I waited in all weekend.",
            "The parcel was left outside in the rain and the box was soaked through.",
            "One item is missing from the order although it is on the delivery note.",
        ),
    },
    "product_quality": {
        "ru": (
            "Чайник перестал включаться через неделю после покупки.",
            "Куртка пришла с разошедшимся швом на рукаве.",
        ),
        "en": (
            "The kettle stopped switching on a week after I bought it.",
            "The jacket arrived with a split seam on the sleeve.",
        ),
    },
    "payment": {
        "ru": (
            "Деньги списали дважды за один заказ, прошу вернуть лишний платёж.",
            "Возврат за отменённый заказ так и не пришёл, прошло уже десять дней.",
        ),
        "en": (
            "I was charged twice for one order; please refund the second payment.",
            "The refund for my cancelled order has not arrived after ten days.",
        ),
    },
    "service": {
        "ru": ("Оператор на горячей линии грубо ответил и положил трубку.",),
        "en": ("The hotline operator was rude and hung up on me.",),
    },
    "website": {
        "ru": ("Не могу оформить заказ: кнопка «Оплатить» ничего не делает.",),
        "en": ("I cannot check out: the Pay button does nothing at all.",),
    },
}

QUESTIONS = {
    "ru": (
        "сколько идет доставка",
        "как вернуть товар",
        "можно оплатить картой при получении",
        "как изменить адрес доставки",
        "вы принимаете оплату криптовалютой",
        "есть ли у вас подарочные сертификаты",
    ),
    "en": (
        "how long does delivery take",
        "how do I return an item",
        "can I change my delivery address",
        "do you accept cryptocurrency",
        "do you sell gift cards",
    ),
}

AGENT_REPLIES = {
    "ru": (
        "Здравствуйте! Уже разбираемся, вернусь с ответом сегодня.",
        "Спасибо, что написали. Проверяю информацию по вашему заказу.",
    ),
    "en": (
        "Hello! We are looking into it and will get back to you today.",
        "Thank you for writing. I am checking your order now.",
    ),
}
AGENT_QUESTIONS = {
    "ru": "Пришлите, пожалуйста, фото упаковки и номер чека.",
    "en": "Could you send a photo of the packaging and the receipt number, please?",
}
CUSTOMER_ANSWERS = {
    "ru": "Хорошо, сейчас пришлю. Номер чека 4471-2209.",
    "en": "Sure, the receipt number is 4471-2209.",
}
DECISIONS = (
    ("refund", {"ru": "Вернули полную сумму на карту.", "en": "We refunded the full amount."}),
    ("replacement", {"ru": "Отправили замену курьером.", "en": "A replacement is on its way."}),
    ("apology", {"ru": "Приносим извинения, поговорили с сотрудником.", "en": "We apologise."}),
    (
        "compensation",
        {"ru": "Начислили 500 бонусов за неудобство.", "en": "We added 500 bonus points."},
    ),
)
