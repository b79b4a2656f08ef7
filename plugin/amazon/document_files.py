"""What a report document download is: a ZIP archive holding the PDF, sometimes gzipped too.

Amazon's Document API hands out a presigned link to a ZIP archive (spec §9 item 3, seen by two
independent clients); ``compressionAlgorithm: GZIP`` (or gzip's magic bytes) means the archive
is gzip-compressed as well. ``document_pdf`` unwraps gzip if present, then the ZIP, and checks
the ``%PDF`` header of the member before anything is attached. A bare PDF (no archive) is
accepted as it is. Anything else raises ``AmazonDocumentUnreadable`` with a sentence fit for
the entry page: a corrupt archive, an archive without a file, a member that is not a PDF, an
unknown compression, or more than ``MAX_PDF_BYTES`` once unpacked (a guard against archive
bombs). Pure: bytes in, bytes out.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from plugin.amazon.errors import AmazonDocumentUnreadable

MAX_PDF_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF"


def _unreadable(document_id: str, what: str) -> AmazonDocumentUnreadable:
    return AmazonDocumentUnreadable(
        f"Amazon's document {document_id} {what}; it was not attached.", operation="download"
    )


def gunzip(data: bytes, document_id: str) -> bytes:
    """``data`` gunzipped (at most ``MAX_PDF_BYTES``)."""
    try:
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        out = inflater.decompress(data, MAX_PDF_BYTES + 1)
    except zlib.error as exc:
        raise _unreadable(document_id, "says GZIP but could not be unzipped") from exc
    if len(out) > MAX_PDF_BYTES:
        raise _unreadable(document_id, "is larger than 50 MB unzipped")
    return out


def zip_member(data: bytes, document_id: str) -> bytes:
    """The document inside a ZIP archive: its PDF member, else its only file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = [info for info in archive.infolist() if not info.is_dir()]
            if not files:
                raise _unreadable(document_id, "is a ZIP archive with no file in it")
            pdfs = [info for info in files if info.filename.lower().endswith(".pdf")]
            member = (pdfs or files)[0]
            if member.file_size > MAX_PDF_BYTES:
                raise _unreadable(document_id, "holds a file larger than 50 MB")
            with archive.open(member) as handle:
                content = handle.read(MAX_PDF_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise _unreadable(document_id, "is a ZIP archive that could not be opened") from exc
    if len(content) > MAX_PDF_BYTES:
        raise _unreadable(document_id, "holds a file larger than 50 MB")
    if not content.startswith(PDF_MAGIC):
        raise _unreadable(document_id, f"holds {member.filename!r:.60}, which is not a PDF")
    return content


def document_pdf(raw: bytes, compression: object, document_id: str) -> bytes:
    """The PDF inside a downloaded report document; ``AmazonDocumentUnreadable`` otherwise."""
    if compression not in (None, "", "GZIP"):
        raise _unreadable(document_id, f"uses an unknown compression {compression!r:.30}")
    data = raw
    if compression == "GZIP" or data.startswith(GZIP_MAGIC):
        data = gunzip(data, document_id)
    if data.startswith(ZIP_MAGIC):
        return zip_member(data, document_id)
    if data.startswith(PDF_MAGIC):
        return data
    return _not_a_document(data, document_id)


def _not_a_document(data: bytes, document_id: str) -> bytes:
    if data[:2] == b"PK":
        raise _unreadable(document_id, "is a ZIP archive that could not be opened")
    raise _unreadable(document_id, "is neither a ZIP archive nor a PDF")
