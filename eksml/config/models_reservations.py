"""Typed EC2 capacity reservations of node pools: an On-Demand Capacity Reservation (ODCR) or a
Capacity Block for ML, named by ID or (Karpenter pools) by tags. Whether a pool may use one (zone,
instance types, capacity type, Karpenter version) needs the whole file: rules_reservations.py."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_RESERVATION_ID = re.compile(r"^cr-[0-9a-f]{17}$")
_OWNER = re.compile(r"^\d{12}$")


def reservation_id(value: str) -> str:
    if not _RESERVATION_ID.match(value):
        raise ValueError(f"'{value}' is not a capacity reservation ID: cr- and 17 hexadecimal digits "
                         "(a Capacity Block's too: its offering ID cb-… is not the reservation)")
    return value


def owner_id(value: str) -> str:
    if not _OWNER.match(value):
        raise ValueError(f"'{value}' is not an AWS account ID (12 digits)")
    return value


ReservationId = Annotated[str, AfterValidator(reservation_id)]
OwnerId = Annotated[str, AfterValidator(owner_id)]


class Reservation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["odcr", "capacity-block"] = "odcr"
    id: Optional[ReservationId] = None
    tags: dict[str, str] = Field(default_factory=dict, max_length=10)  # Karpenter pools: select by tags
    owner_id: Optional[OwnerId] = None  # a reservation shared from another account (with tags)
    availability_zone: Optional[str] = None  # the reservation's zone: node groups launch only there

    @model_validator(mode="after")
    def _id_or_tags(self) -> "Reservation":
        if (self.id is None) == (not self.tags):
            raise ValueError("name the reservation by id (cr-…) or by tags, exactly one of them")
        if self.owner_id is not None and self.id is not None:
            raise ValueError("owner_id narrows a tag selection; an id names one reservation already")
        return self
