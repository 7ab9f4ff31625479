"""Checking uploaded files by their content: size limit, type from the first bytes, name that agrees with it.

Shared by apps that accept attachments and may not import one another (members' notices, services' case
attachments). The browser's claimed type and the file name alone are
never trusted: an executable renamed `.pdf` is refused because its bytes do not start like a PDF.
"""

import zipfile

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
PPT = "application/vnd.ms-powerpoint"
XLS = "application/vnd.ms-excel"
TEXT = "text/plain"

#: (leading bytes, content type) of the plain formats.
_SIGNATURES = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"%PDF-", PDF),
)
#: Office Open XML formats are ZIP files; the folder inside tells them apart.
_OOXML = {XLSX: "xl/", DOCX: "word/", PPTX: "ppt/"}
#: Legacy Office files share one container signature (OLE2); the extension names which of them it is.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE2_BY_EXTENSION = {".doc": DOC, ".ppt": PPT, ".xls": XLS}
EXTENSIONS = {
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    WEBP: (".webp",),
    PDF: (".pdf",),
    XLSX: (".xlsx",),
    DOCX: (".docx",),
    PPTX: (".pptx",),
    DOC: (".doc",),
    PPT: (".ppt",),
    XLS: (".xls",),
    TEXT: (".txt",),
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


def _is_text(upload) -> bool:
    """Plain text: no NUL byte in the first 64 KB, which decode as UTF-8 or GB18030."""
    upload.seek(0)
    sample = upload.read(65536)
    upload.seek(0)
    if not sample or b"\0" in sample:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a character cut by the sample's end
                return True
            continue
        return True
    return False


def sniff_content_type(upload, name: str = "") -> str | None:
    """The file's type from its content (never from the browser's claim); None if unknown.

    The name only tells apart formats whose content cannot: the legacy Office files inside one OLE2
    container, and plain text (which has no signature at all).
    """
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    extension = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if head.startswith(_OLE2):
        return _OLE2_BY_EXTENSION.get(extension)
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_type(upload)
    if extension == ".txt" and _is_text(upload):
        return TEXT
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
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    detected = sniff_content_type(upload, name)
    if detected is None or detected not in allowed_types or not name.lower().endswith(EXTENSIONS[detected]):
        kinds = ", ".join(sorted({ext.lstrip(".").upper() for t in allowed_types for ext in EXTENSIONS.get(t, ())}))
        raise ValidationError(
            {field: _("This file cannot be attached: its content must be one of %(kinds)s.") % {"kinds": kinds}}
        )
    return name, detected


def attachment_response(file, *, name: str, content_type: str) -> FileResponse:
    """A stored attachment as a download (never shown inline, never sniffed); 404 when the file is gone.

    Callers check who may see the attachment first: files are never served from their storage URL.
    """
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
