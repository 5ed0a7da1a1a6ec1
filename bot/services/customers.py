"""Customer registration and preferences."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.tickets import OPEN_STATUSES
from bot.services.outbox import enqueue_card_refresh
from storage.customer_cache import CustomerCache
from storage.customer_lookup import customer_by_telegram_id
from storage.models import Customer
from storage.unit_of_work import Database

RUSSIAN_FAMILY = ("ru", "uk", "be", "kk")


def locale_from_language_code(language_code: str | None, *, default: str) -> str:
    """Telegram gives an IETF tag; Russian-speaking regions get ru, everything else en."""
    if not language_code:
        return default
    primary = language_code.split("-")[0].lower()
    if primary in RUSSIAN_FAMILY:
        return "ru"
    return "en"


def _same_profile(customer: Customer, profile: TelegramProfile) -> bool:
    return (
        customer.first_name,
        customer.last_name,
        customer.username,
        customer.language_code,
    ) == (profile.first_name, profile.last_name, profile.username, profile.language_code)


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


class CustomerService:
    """Customer look-ups. An unchanged profile (most updates) is one read; with `cache`
    (single instance only) not even that."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        default_locale: str,
        cache: CustomerCache | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._default_locale = default_locale
        self._cache = cache

    async def register(self, profile: TelegramProfile) -> Customer:
        if self._cache is not None:
            cached = self._cache.get(profile.telegram_id)
            if cached is not None and _same_profile(cached, profile):
                return await self._reachable(cached)
        known = await customer_by_telegram_id(self._database, profile.telegram_id)
        if known is not None and _same_profile(known, profile):
            if self._cache is not None:
                self._cache.put(known)
            return await self._reachable(known)
        async with self._database.unit_of_work() as uow:
            customer = await uow.customers.register(
                telegram_id=profile.telegram_id,
                first_name=profile.first_name,
                last_name=profile.last_name,
                username=profile.username,
                language_code=profile.language_code,
                locale=locale_from_language_code(
                    profile.language_code, default=self._default_locale
                ),
                now=self._clock.now(),
            )
        if self._cache is not None:
            self._cache.put(customer)
        return await self._reachable(customer)

    async def _reachable(self, customer: Customer) -> Customer:
        """Someone who writes to the bot again has unblocked it: clear the unreachable mark
        (and refresh the cards that show it). Costs nothing when the mark is not set."""
        if not customer.is_unreachable:
            return customer
        assert customer.id is not None
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            stored = await uow.customers.get(customer_id=customer.id)
            if stored is None:
                return customer
            stored.is_unreachable = False
            stored.updated_at = now
            await uow.customers.save(customer=stored)
            for ticket in await uow.tickets.open_for_customer(
                customer_id=customer.id, statuses=[s.value for s in OPEN_STATUSES]
            ):
                assert ticket.id is not None
                await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
        if self._cache is not None:
            self._cache.put(stored)
        return stored

    async def set_locale(self, *, customer_id: int, locale: str) -> Customer:
        async with self._database.unit_of_work() as uow:
            customer = await uow.customers.get(customer_id=customer_id)
            if customer is None:
                raise LookupError(f"no customer {customer_id}")
            customer.locale = locale
            customer.updated_at = self._clock.now()
            await uow.customers.save(customer=customer)
            return customer
