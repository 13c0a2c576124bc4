"""The delivery service: the channels a digest goes to and how they are sent to, checked once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ribao.delivery.channels import PushChannel, check_env, select
from ribao.delivery.send import DigestFiles, deliver
from ribao.schemas import DeliveryRecord


@dataclass(frozen=True)
class Delivery:
    """Push channels with their retry policy (`retries` further attempts, waiting `backoff_seconds`,
    doubling) and per-request timeout; the page link in cards is `site_url`."""

    channels: list[PushChannel]
    site_url: str | None = None
    retries: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0

    def only(self, names: list[str] | None) -> Delivery:
        """Return this delivery limited to `names` (all when None); `ConfigError` for an unknown name."""
        return replace(self, channels=select(self.channels, names))

    def check(self) -> None:
        """Raise `ConfigError` when a channel's URL names an unset environment variable."""
        check_env(self.channels)

    def send(self, files: DigestFiles) -> list[DeliveryRecord]:
        """Send the digest to every channel in order; one record per channel, failures never raised.

        Blocking (Apprise is synchronous): call it off the event loop."""
        return deliver(
            self.channels,
            files,
            site_url=self.site_url,
            retries=self.retries,
            backoff_seconds=self.backoff_seconds,
            timeout_seconds=self.timeout_seconds,
        )
