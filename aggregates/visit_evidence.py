"""Visits that prove themselves (C-10, C-11; seed 000 §2: 杜绝编造、补录): how far from the
customer a visit's photo was taken, by the haversine formula on a sphere of the Earth's mean
radius, and what could not be checked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from aggregates.base import Invalid

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)

# What a visit's distance check found; Q-3 shows it beside the distance.
CHECKED = "checked"
NO_PHOTO = "no_photo"
NO_PHOTO_GPS = "no_photo_gps"
NO_CUSTOMER_LOCATION = "no_customer_location"
UNCHECKED = "unchecked"  # recorded before visits were checked (VisitRecorded version 1)
DISTANCE_CHECKS = (CHECKED, NO_PHOTO, NO_PHOTO_GPS, NO_CUSTOMER_LOCATION, UNCHECKED)

Position = tuple[float, float]


def haversine_m(a: Position, b: Position) -> float:
    """The great-circle distance in metres between two (latitude, longitude) positions in degrees."""
    lat1, lng1, lat2, lng2 = (math.radians(v) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class DistanceCheck:
    """`status` one of DISTANCE_CHECKS; `distance_m` whole metres when checked; `far` when the
    photo was taken farther from the customer than the limit."""

    status: str
    distance_m: int | None = None
    far: bool = False


def check_distance(*, has_photo: bool, photo_position: Position | None, customer_position: Position | None,
                   max_distance_m: int) -> DistanceCheck:
    """The photo's GPS position against the customer's location. Only the photo is evidence:
    a position typed into the form is not checked. A visit farther than `max_distance_m` is
    accepted and flagged, not refused."""
    if not has_photo:
        return DistanceCheck(NO_PHOTO)
    if photo_position is None:
        return DistanceCheck(NO_PHOTO_GPS)
    if customer_position is None:
        return DistanceCheck(NO_CUSTOMER_LOCATION)
    distance = haversine_m(photo_position, customer_position)
    return DistanceCheck(CHECKED, round(distance), distance > max_distance_m)


class RecordedVisit(NamedTuple):
    """What recording a visit decided: its id, whether it is a late entry (补录), its distance check."""

    visit_id: str
    late_entry: bool
    distance: DistanceCheck


def position(lat: float | None, lng: float | None) -> Position | None:
    """A location only when both coordinates are known."""
    return (lat, lng) if lat is not None and lng is not None else None


def exif_position(photo_exif: dict[str, Any] | None) -> Position | None:
    """Where the photo says it was taken (C-11), if it says so."""
    return position(photo_exif.get("lat"), photo_exif.get("lng")) if photo_exif else None


def given(text: str | None) -> str | None:
    """A text field left empty or blank is not given."""
    return text if text is not None and text.strip() else None


def require_photo(photo: str | None, required: bool) -> None:
    """`visit_photo_required`: a visit without its photo is refused (422 `photo_required`)."""
    if required and photo is None:
        raise Invalid("photo_required", "a visit needs its photo (拍照上传): attach a JPEG as `photo`",
                      field="photo")
