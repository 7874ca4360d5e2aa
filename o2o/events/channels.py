"""Delivery channels: the kinds of delivery the one engine (o2o.events.delivery) sends, and the
fanouts that queue deliveries of them for events.

A channel says how an attempt of its deliveries goes out: the headers that sign it (computed at
each attempt, from the `Claim` a worker holds) and the app config key of its retry schedule.
`webhook` is built in (o2o.events.delivery): its deliveries belong to an endpoint, go to the
endpoint's url and are claimed only while it is enabled. A registered channel's deliveries have
no endpoint: each carries its own url (and an owner), and is claimed whenever it is due.
Another package registers its channel, and a fanout that turns an event into deliveries of it,
on each app it is part of, when the app is created (its `init_app`, called by create_app): the
registry is the app's, so a test's throwaway channel ends with the test's app.

This module knows no channel but the built-in one's name: o2o.events stands below the packages
that register here and never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app

from o2o.models import WEBHOOK_CHANNEL, Event

if TYPE_CHECKING:
    from flask import Flask

EXTENSION = "o2o.delivery_channels"
NAME_LENGTH = 32  # webhook_deliveries.channel
URL_LENGTH = 2048  # webhook_deliveries.url
OWNER_LENGTH = 32  # webhook_deliveries.owner


@dataclass(frozen=True)
class Claim:
    """One attempt a worker holds: what to send where, and the lease that makes it its own."""

    delivery_id: str
    event_id: str
    channel: str
    body: str
    attempt_count: int  # attempts made before this one
    url: str | None  # the endpoint's url as it is now, else the delivery's own
    owner: str | None  # whom the delivery is for (a WeChat Pay merchant's mchid), if anyone
    secrets: tuple[str, ...]  # an endpoint's signing secrets, sealed, the newest first
    worker_id: str
    lease_expires_at: datetime  # real time; also the claim's fencing token
    attempted_at: datetime  # service time

    @property
    def payload(self) -> bytes:
        """The bytes this attempt sends (and its headers sign): the body as queued."""
        return self.body.encode()


@dataclass(frozen=True)
class DeliveryChannel:
    """How the deliveries of one channel go out."""

    headers: Callable[[Claim], dict[str, str]]  # of one attempt, computed when it is made
    schedule_key: str  # the app config key of the waits (seconds) after each failed attempt


@dataclass(frozen=True)
class DeliverySpec:
    """A delivery a fanout asks for: the channel, the url, the body every attempt sends
    (rendered once, now) and whom it is for (listed and signed per owner)."""

    channel: str
    url: str
    body: str
    owner: str | None = None


# What a fanout is: called for each event as it is dispatched, in the dispatch's transaction
# (it may read; it writes nothing: it returns what to queue). It raising, or returning a spec
# the engine refuses, is logged and skips that fanout for that event, nothing else.
Fanout = Callable[[Event], Iterable[DeliverySpec]]


@dataclass
class Registry:
    """An app's channels (beside the built-in `webhook`) and fanouts."""

    channels: dict[str, DeliveryChannel] = field(default_factory=dict)
    fanouts: list[Fanout] = field(default_factory=list)


def registry(app: Flask | None = None) -> Registry:
    """The registry of `app` (default: the current app), made empty on first use."""
    target = app if app is not None else current_app
    found: Registry = target.extensions.setdefault(EXTENSION, Registry())
    return found


def register_channel(name: str, channel: DeliveryChannel, app: Flask | None = None) -> None:
    """Make `name` a channel of `app` (default: the current app). Registering the same channel
    again is a no-op; another one under a taken name, `webhook`, a name longer than 32
    characters or a schedule key the app's config lacks is a ValueError."""
    target = app if app is not None else current_app
    if name == WEBHOOK_CHANNEL or not 0 < len(name) <= NAME_LENGTH:
        raise ValueError(f"{name!r} cannot name a channel: 1 to 32 characters, not webhook")
    if channel.schedule_key not in target.config:
        raise ValueError(f"channel {name!r}: no {channel.schedule_key} in the app's config")
    channels = registry(target).channels
    if channels.setdefault(name, channel) != channel:
        raise ValueError(f"another delivery channel is already registered as {name!r}")


def register_fanout(fanout: Fanout, app: Flask | None = None) -> None:
    """Have `fanout` called for every event `app` (default: the current app) dispatches; once,
    however often it is registered."""
    fanouts = registry(app).fanouts
    if fanout not in fanouts:
        fanouts.append(fanout)


def checked(spec: DeliverySpec) -> DeliverySpec:
    """`spec` if the current app can queue it: a registered channel, a url and an owner that
    fit their columns; else a ValueError saying what is wrong."""
    if spec.channel not in registry().channels:
        raise ValueError(f"no delivery channel {spec.channel!r} is registered")
    if not 0 < len(spec.url) <= URL_LENGTH:
        raise ValueError(f"a delivery url has 1 to {URL_LENGTH} characters, not {len(spec.url)}")
    if spec.owner is not None and not 0 < len(spec.owner) <= OWNER_LENGTH:
        raise ValueError(f"a delivery owner has 1 to {OWNER_LENGTH} characters: {spec.owner!r}")
    return spec
