"""Delivery channels for built briefs: a registry of channels, each one module.

A channel is a settings model (its ``deliver.<name>`` config section) and a class with
``send(package) -> receipt``. Config validation reads ``DeliverSettings``;
``briefgen.schedule.deliveries`` makes each channel from ``CHANNELS`` and sends one ``Package``
per run on it, recording every try and retrying a ``DeliveryError`` only when it is not
``permanent``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from briefgen.deliver import email, webhook
from briefgen.deliver.base import Channel, ChannelSpec, DeliveryError, Package, Section
from briefgen.deliver.email import EmailChannel, EmailSettings, SmtpSettings
from briefgen.deliver.webhook import WebhookChannel, WebhookSettings

__all__ = [
    "CHANNELS",
    "SECRET_VARIABLES",
    "Channel",
    "ChannelSpec",
    "DeliverSettings",
    "DeliveryError",
    "EmailChannel",
    "EmailSettings",
    "Package",
    "Section",
    "SmtpSettings",
    "WebhookChannel",
    "WebhookSettings",
    "configured_channels",
]

# A new channel is a module with a SPEC, listed here and as a field of DeliverSettings.
CHANNELS: dict[str, ChannelSpec[Any]] = {spec.name: spec for spec in (email.SPEC, webhook.SPEC)}
# Environment variables holding secrets: never shown in messages or the run history.
SECRET_VARIABLES = (email.USERNAME_ENV, email.PASSWORD_ENV, webhook.SECRET_ENV)


class DeliverSettings(BaseModel):
    """The ``deliver:`` section of a brief: which channels send it, and how."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    email: EmailSettings | None = None
    """Send the brief by email, the HTML edition as the body and chosen formats attached."""

    webhook: WebhookSettings | None = None
    """POST a JSON summary of the brief to a URL, signed when BRIEFGEN_WEBHOOK_SECRET is set."""


def configured_channels(settings: DeliverSettings | None) -> list[str]:
    """Return the names of the channels ``settings`` sets, in registry order."""
    if settings is None:
        return []
    return [name for name in CHANNELS if getattr(settings, name) is not None]
