"""Principal: who is calling — a plain value the api layer hands to every use case."""

from __future__ import annotations

from dataclasses import dataclass

from o2o.vocabulary import Role


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, the key used, and the clerk's store or the shopper."""

    role: Role
    key_id: str
    clerk_id: str | None = None
    store_id: str | None = None
    shopper_id: str | None = None

    @property
    def actor_id(self) -> str:
        return self.clerk_id or self.shopper_id or self.key_id
