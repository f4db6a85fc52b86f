"""Helpers the HTTP tests share: a department with a manager and two salespeople, a response
check, and JPEG photos with chosen EXIF data. Test modules import these, never each other."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from PIL import ExifTags, Image

from tests.conftest import Http


def org_with_two_salespeople(http: Http) -> dict[str, Any]:
    dept = http.post("/departments", "root", json={"name": "华东销售部"})
    assert dept.status_code == 201, dept.text
    dept_id = dept.json()["id"]
    ids = {"dept": dept_id}
    for username, roles in (("boss", ["manager"]), ("alice", ["sales"]), ("bob", ["sales"])):
        body = {"name": username.title(), "username": username, "password": "password123",
                "department_id": dept_id, "roles": roles}
        if "sales" in roles:
            body["max_customers"] = 2
        response = http.post("/people", "root", json=body)
        assert response.status_code == 201, response.text
        ids[username] = response.json()["id"]
    return ids


def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def jpeg(taken: datetime | None = None, gps: tuple[float, float] | None = None, colour: str = "red") -> bytes:
    image = Image.new("RGB", (32, 24), colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CRM test camera"
    if taken is not None:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if taken.tzinfo is not None:
            offset = taken.utcoffset() or timedelta()
            minutes = int(offset.total_seconds() // 60)
            details[ExifTags.Base.OffsetTimeOriginal] = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:" \
                                                        f"{abs(minutes) % 60:02d}"
    if gps is not None:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        for (ref_tag, value_tag), value, (plus, minus) in (
            ((ExifTags.GPS.GPSLatitudeRef, ExifTags.GPS.GPSLatitude), gps[0], ("N", "S")),
            ((ExifTags.GPS.GPSLongitudeRef, ExifTags.GPS.GPSLongitude), gps[1], ("E", "W")),
        ):
            whole = abs(value)
            degrees, minutes = int(whole), int((whole % 1) * 60)
            seconds = round(((whole % 1) * 60 - minutes) * 60, 2)
            info[ref_tag] = plus if value >= 0 else minus
            info[value_tag] = (float(degrees), float(minutes), seconds)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()
