"""The agents' command menu in the staff group, in both languages."""

from __future__ import annotations

from bot.app import STAFF_MENU, register_commands
from bot.telegram.staff.group import STAFF_COMMANDS
from tests.harness import Desk
from tests.staff.conftest import STAFF


def test_the_menu_lists_every_staff_command() -> None:
    assert sorted(STAFF_MENU) == sorted(STAFF_COMMANDS)


async def test_staff_commands_are_registered_for_the_staff_chat(desk: Desk) -> None:
    await register_commands(desk.app)
    staff_calls = [
        call
        for call in desk.fake.calls_of("setMyCommands")
        if call.params["scope"] == {"type": "chat", "chat_id": STAFF}
    ]
    by_language = {
        call.params.get("language_code"): call.params["commands"] for call in staff_calls
    }
    assert set(by_language) == {None, "en"}
    for commands in by_language.values():
        assert [c["command"] for c in commands] == list(STAFF_MENU)
        assert all(0 < len(c["description"]) <= 256 for c in commands)
    russian = {c["command"]: c["description"] for c in by_language[None]}
    english = {c["command"]: c["description"] for c in by_language["en"]}
    assert russian["take"] == "Взять обращение этой темы"
    assert english["take"] == "Take the ticket of this topic"
    assert english["resolve"] == "Resolve: /resolve <type> <decision>"


async def test_without_a_staff_group_only_the_customer_menu_is_set(desk: Desk) -> None:
    desk.app.settings = desk.app.settings.model_copy(update={"staff_chat_id": None})
    await register_commands(desk.app)
    scopes = {call.params["scope"]["type"] for call in desk.fake.calls_of("setMyCommands")}
    assert scopes == {"all_private_chats"}
