"""core/uploads.py: a file's type comes from its content; the name must agree; legacy Office and text too."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.uploads import DOC, PDF, PPT, PPTX, TEXT, XLSX, sniff_content_type, validate_upload

ALL = [PDF, XLSX, PPTX, DOC, PPT, TEXT]
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100


def _ooxml(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("minutes.pdf", b"%PDF-1.7 ...", PDF),
        ("slides.pptx", _ooxml("ppt/"), PPTX),
        ("sheet.xlsx", _ooxml("xl/"), XLSX),
        ("old.doc", OLE2, DOC),
        ("old.ppt", OLE2, PPT),
        ("notes.txt", "学习笔记：第一次支部会议\n".encode(), TEXT),
        ("notes.txt", "学习笔记".encode("gb18030"), TEXT),
    ],
)
def test_validate_upload_accepts_content_that_matches_its_name(name, content, expected):
    assert validate_upload(SimpleUploadedFile(name, content), allowed_types=ALL, max_bytes=10_000) == (name, expected)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("run.pdf", b"MZ\x90\x00 an executable"),  # renamed executable
        ("minutes.doc", b"%PDF-1.7"),  # a PDF named .doc
        ("binary.txt", b"text\0with a NUL byte"),  # not text
        ("old.xls", OLE2),  # a type this caller does not allow
        ("empty.pdf", b""),
    ],
)
def test_validate_upload_refuses_with_a_field_error(name, content):
    with pytest.raises(ValidationError) as error:
        validate_upload(SimpleUploadedFile(name, content), allowed_types=ALL, max_bytes=10_000)
    assert "file" in error.value.message_dict


def test_validate_upload_refuses_files_over_the_limit():
    with pytest.raises(ValidationError, match="larger than"):
        validate_upload(SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 2000), allowed_types=ALL, max_bytes=1000)


def test_sniff_content_type_ignores_the_claimed_type():
    upload = SimpleUploadedFile("photo.png", b"%PDF-1.4", content_type="image/png")
    assert sniff_content_type(upload, upload.name) == PDF
