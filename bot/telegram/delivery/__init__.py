"""The outbox delivery worker: sends what `bot/services/outbox.py` queued, paced and retried.

**Fetching.** A round reads the oldest due rows of every chat that may send now
(`DeliveryStore.claim_due`), lane by lane (`storage/outbox_models.py` `LANES`: the
conversation first, desk notices and cards next, broadcasts last) and at most as many of one
chat as its pace allows: chats held by a retry or by another sender's lease and chats being
paced are left out in the query, so one busy chat (the staff group at 20 a minute) never fills
a round and a reply never waits behind a broadcast. When a chat had more due than a round
takes, the next round starts at once instead of waiting for a wake-up.
Within a chat, messages relayed from one source chat go in the order of their source message
ids, whichever instance stored them first (`ordering.py`).

**Sending.** A round sends each chat's rows one after the other, in order, and different chats
side by side (a few at a time), so a slow call or a new topic in the staff group does not hold
up a customer's reply. In the staff group the order that matters is a ticket's (its topic's),
so there each ticket's rows are a chain of their own: the group's tickets go side by side,
paced together as one chat.

**Claiming.** Each message is claimed (`sending`, with a short lease that is renewed while the
round runs) before the Bot API call and marked `sent` after it, with the ids of what Telegram
created (links for edits and replies, `links.py`). A process that dies holds its rows for one
lease at most (`lease`, 30 s), then another worker (or the restarted one) takes them over.

Delivery guarantee: **at least once**. Telegram has no idempotency key for sending, so a
process that dies after Telegram accepted a message but before `sent` was committed cannot
know whether it went out; when the lease expires the message is sent again. Each sent message
is recorded right after Telegram's answer, so the window is one message wide per chat (in the
staff group, per ticket) being sent to. Edits are idempotent (Telegram answers "message is
not modified"), so for them a replay is invisible.

**Length.** A text longer than Telegram's 4,096 units (counted after HTML parsing, signature
included) goes as several messages split at paragraphs, lines or sentences; a caption longer
than 1,024 units is sent as a text of its own right after (in reply to) its media
(`texts.py`, `senders.py`).

**Failures** (`failures.py`). 429 waits exactly `retry_after`; network errors, timeouts and
server errors are retried with backoff (2 s doubling up to 5 min) for `give_up_after` (2 days),
and the ticket's topic is told once when a message to a customer has waited more than
`delay_notice` (5 min). A refusal for good (400 "message is too long", "can't parse entities",
"chat not found", 403) marks the row failed and tells the ticket's topic the reason and what to
do; a supervisor who cannot be reached (never started the bot) is named once in the staff
group. 403 also marks the customer unreachable. "message thread not found" re-creates the
ticket's topic (with its card) and sends there. A message waiting for a retry holds back the
later messages of its chat.

Card refreshes (`refresh_card` rows, chat `STAFF_GROUP`) are paced as messages into the staff
group; several due for one ticket in a round are done once (the card is rendered from the
ticket as stored now). Without a staff group they are simply marked done.

Pacing: `bot/telegram/pacing.py` (per process, or shared through Redis): each chat's pace
and about 30 messages a second over all chats; a round takes no more than the overall limit
allows, so a broadcast of thousands goes at that rate while the conversation lane, read first,
gets the next free slots.
"""

from bot.telegram.delivery.ordering import in_source_order
from bot.telegram.delivery.senders import SENDERS, TicketThreads
from bot.telegram.delivery.worker import DeliveryWorker, stop_worker
from bot.telegram.pacing import Pacer

__all__ = ["SENDERS", "DeliveryWorker", "Pacer", "TicketThreads", "in_source_order", "stop_worker"]
