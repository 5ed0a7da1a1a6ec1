"""Who is in the sandbox: the bot, its staff group and the people writing to it."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.emulator import TelegramUser

BOT_TOKEN = "4242424242:SANDBOX-local-token-not-for-telegram"
BOT_USERNAME = "support_desk_sandbox_bot"
BOT_NAME = "Support Desk"
STAFF_CHAT_ID = -1001000000001
STAFF_CHAT_TITLE = "Support desk · staff"


@dataclass(frozen=True)
class StaffMember:
    user: TelegramUser
    role: str  # "admin" (group owner, supervisor) or "agent" (in STAFF_USER_IDS)


@dataclass(frozen=True)
class Customer:
    user: TelegramUser
    phone: str


STAFF = (
    StaffMember(TelegramUser(900001, "Olga", "Smirnova", "olga_lead", "ru"), "admin"),
    StaffMember(TelegramUser(900002, "Pavel", "Orlov", "pavel_agent", "ru"), "agent"),
    StaffMember(TelegramUser(900003, "Sarah", "Jones", "sarah_agent", "en"), "agent"),
)

CUSTOMERS = (
    Customer(TelegramUser(100001, "Anna", "Ivanova", "anna_iv", "ru"), "+79161234501"),
    Customer(TelegramUser(100002, "Emily", "Clark", "emily_c", "en"), "+447700900102"),
    Customer(TelegramUser(100003, "Dmitry", "Sokolov", None, "ru"), "+79031234503"),
    Customer(TelegramUser(100004, "James", "Miller", "jmiller", "en"), "+12025550104"),
)


def admins() -> list[int]:
    return [m.user.id for m in STAFF if m.role == "admin"]


def agents() -> list[int]:
    return [m.user.id for m in STAFF if m.role == "agent"]
