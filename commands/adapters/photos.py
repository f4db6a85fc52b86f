"""Photo evidence (C-11): JPEG checks, the EXIF time and GPS position, and the
content-addressed blob store (sha256; a local folder by default)."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, UnidentifiedImageError

from aggregates import bounds
from aggregates.base import Invalid
from commands.ports import Blobs

JPEG_MAGIC = b"\xff\xd8\xff"


class UnsupportedPhoto(Invalid):
    """Not a JPEG (415 at the edge)."""

    kind = "unsupported"


class PhotoTooLarge(Invalid):
    """Bigger than the configured limit (413 at the edge)."""

    kind = "too_large"


@dataclass(frozen=True)
class PhotoInfo:
    sha256: str
    taken_at: datetime | None
    lat: float | None
    lng: float | None

    def exif(self) -> dict[str, Any]:
        return {"taken_at": self.taken_at.isoformat() if self.taken_at else None, "lat": self.lat, "lng": self.lng}


def read_photo(data: bytes, business_tz: tzinfo, max_bytes: int) -> PhotoInfo:
    """Check the bytes are a JPEG within the limit and read its EXIF time and position.
    A time without an offset is the business time zone's; missing EXIF gives None."""
    if len(data) > max_bytes:
        raise PhotoTooLarge("too_large", "the photo is larger than {max_bytes} bytes", field="photo",
                            details={"max_bytes": max_bytes}, max_bytes=max_bytes)
    if not data.startswith(JPEG_MAGIC):
        raise UnsupportedPhoto("unsupported_media_type", "the photo must be a JPEG", field="photo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                raise UnsupportedPhoto("unsupported_media_type", "the photo must be a JPEG", field="photo")
            exif = image.getexif()
            taken_at = _taken_at(exif, business_tz)
            lat, lng = _position(exif)
    except UnsupportedPhoto:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError, KeyError,
            TypeError, IndexError, struct.error):
        # Whatever a damaged or hostile file makes the decoder or the EXIF reader raise.
        raise UnsupportedPhoto("unsupported_media_type", "the photo is not a readable JPEG",
                               field="photo") from None
    return PhotoInfo(hashlib.sha256(data).hexdigest(), taken_at, lat, lng)


def _taken_at(exif: Image.Exif, business_tz: tzinfo) -> datetime | None:
    details = exif.get_ifd(ExifTags.IFD.Exif)
    raw = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not raw:
        return None
    try:
        moment = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(ExifTags.Base.OffsetTimeOriginal) or details.get(ExifTags.Base.OffsetTime)
    zone = _offset(str(offset)) if offset else None
    taken = moment.replace(tzinfo=zone or business_tz)
    # A camera clock outside the business range (year 1, 9999) is no evidence of when the
    # visit was, and such a time may not even convert to UTC: like an unreadable time it is
    # left out, and the visit takes the form's time.
    if not bounds.DATE_MIN <= moment.date() <= bounds.DATE_MAX:
        return None
    if not bounds.DATE_MIN <= taken.astimezone(UTC).date() <= bounds.DATE_MAX:
        return None
    return taken


def _offset(text: str) -> tzinfo | None:
    text = text.strip("\x00 ")
    try:
        sign = -1 if text.startswith("-") else 1
        hours, minutes = text.lstrip("+-").split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except ValueError:
        return None


def _position(exif: Image.Exif) -> tuple[float | None, float | None]:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    lng = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None, None
    return lat, lng


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if str(ref or "").strip("\x00 ").upper() == negative:
        degrees = -degrees
    return round(degrees, 7)


class BlobStore(Blobs):
    """Files named by their sha256 under one folder (`ab/cd/abcd….jpg`); writing the
    same content twice stores it once."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return None
