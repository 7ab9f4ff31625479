"""Checking uploaded files by their content: size limit, type from the first bytes, name that agrees with it.

Shared by apps that accept attachments and may not import one another (members' notices, services' case
attachments). The browser's claimed type and the file name alone are
never trusted: an executable renamed `.pdf` is refused because its bytes do not start like a PDF.
"""

import zipfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: (leading bytes, content type) of the plain formats.
_SIGNATURES = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"%PDF-", PDF),
)
#: Office Open XML formats are ZIP files; the folder inside tells them apart.
_OOXML = {XLSX: "xl/", DOCX: "word/"}
EXTENSIONS = {
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    WEBP: (".webp",),
    PDF: (".pdf",),
    XLSX: (".xlsx",),
    DOCX: (".docx",),
}


def _ooxml_type(upload) -> str | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    for content_type, folder in _OOXML.items():
        if any(n.startswith(folder) for n in names):
            return content_type
    return None


def sniff_content_type(upload) -> str | None:
    """The file's type from its content (never from its name or the browser's claim); None if unknown."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_type(upload)
    return None


def validate_upload(upload, *, allowed_types, max_bytes: int, field: str = "file") -> tuple[str, str]:
    """(clean file name, detected content type) of an acceptable upload; ValidationError on `field` otherwise.

    Refused: empty or larger than `max_bytes`, content of a type not in `allowed_types`, or a name whose
    extension disagrees with the content.
    """
    size = upload.size or 0
    if size == 0:
        raise ValidationError({field: _("The file is empty.")})
    if size > max_bytes:
        raise ValidationError(
            {field: _("The file is larger than %(limit)s MB.") % {"limit": round(max_bytes / (1024 * 1024), 1)}}
        )
    detected = sniff_content_type(upload)
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if detected is None or detected not in allowed_types or not name.lower().endswith(EXTENSIONS[detected]):
        kinds = ", ".join(sorted({ext.lstrip(".").upper() for t in allowed_types for ext in EXTENSIONS.get(t, ())}))
        raise ValidationError(
            {field: _("This file cannot be attached: its content must be one of %(kinds)s.") % {"kinds": kinds}}
        )
    return name, detected
