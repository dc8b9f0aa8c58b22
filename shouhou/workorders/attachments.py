"""Uploads for work orders, checked by content and cleaned before they are stored.

Images are opened with Pillow (the name and the browser's content type are ignored),
re-encoded without EXIF/GPS metadata after applying the orientation, and get a thumbnail.
Videos are recognised by their container signature (MP4/MOV ``ftyp`` box, WebM/Matroska EBML
header). Anything else is refused with a message a person can act on.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shouhou.core.errors import DomainError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 30 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
THUMBNAIL_SIZE = (320, 320)
_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class AttachmentRejected(DomainError):
    code = "attachment_rejected"


@dataclass(frozen=True)
class CleanFile:
    content: ContentFile[bytes]
    thumbnail: ContentFile[bytes] | None
    content_type: str
    extension: str
    size: int
    width: int | None
    height: int | None
    token: str


def _read(upload: UploadedFile | bytes, limit: int) -> bytes:
    if isinstance(upload, bytes):
        data = upload
    else:
        if upload.size is not None and upload.size > limit:
            raise AttachmentRejected(_too_big(limit))
        data = upload.read(limit + 1)
    if len(data) > limit:
        raise AttachmentRejected(_too_big(limit))
    if not data:
        raise AttachmentRejected(_("The file is empty."))
    return data


def _too_big(limit: int) -> str:
    return _("The file is too big; the limit is %(mb)d MB.") % {"mb": limit // (1024 * 1024)}


def clean_image(upload: UploadedFile | bytes, *, keep_alpha: bool = False) -> CleanFile:
    """Validate an image by content and return it re-encoded without metadata."""
    data = _read(upload, MAX_IMAGE_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            image_format = probe.format
            probe.verify()
            loaded = Image.open(io.BytesIO(data))
            if loaded.width * loaded.height > MAX_IMAGE_PIXELS:
                raise AttachmentRejected(_("The picture has too many pixels."))
            loaded.load()
    except AttachmentRejected:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise AttachmentRejected(
            _("This file is not a picture we can read. Please use JPG, PNG or WebP.")
        ) from None
    if image_format not in _IMAGE_FORMATS:
        raise AttachmentRejected(_("Please upload a JPG, PNG or WebP picture."))
    image: Image.Image = ImageOps.exif_transpose(loaded) or loaded
    output = io.BytesIO()
    if keep_alpha or image_format == "PNG":
        image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        image.save(output, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        image = image.convert("RGB")
        image.save(output, format="JPEG", quality=85, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    thumb = image.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumb_output = io.BytesIO()
    thumb.save(thumb_output, format="JPEG", quality=80)
    cleaned = output.getvalue()
    return CleanFile(
        content=ContentFile(cleaned),
        thumbnail=ContentFile(thumb_output.getvalue()),
        content_type=content_type,
        extension=extension,
        size=len(cleaned),
        width=image.width,
        height=image.height,
        token=secrets.token_hex(16),
    )


def clean_video(upload: UploadedFile | bytes) -> CleanFile:
    """Accept a short MP4/MOV or WebM video, recognised by its container header."""
    data = _read(upload, MAX_VIDEO_BYTES)
    if len(data) >= 12 and data[4:8] == b"ftyp":
        brand = data[8:12]
        content_type, extension = (
            ("video/quicktime", "mov") if brand == b"qt  " else ("video/mp4", "mp4")
        )
    elif data[:4] == b"\x1a\x45\xdf\xa3":
        content_type, extension = "video/webm", "webm"
    else:
        raise AttachmentRejected(_("This file is not a video we can play. Please use MP4."))
    return CleanFile(
        content=ContentFile(data),
        thumbnail=None,
        content_type=content_type,
        extension=extension,
        size=len(data),
        width=None,
        height=None,
        token=secrets.token_hex(16),
    )


def clean_upload(upload: UploadedFile | bytes) -> CleanFile:
    """A picture or a video, decided by content."""
    head = upload[:16] if isinstance(upload, bytes) else upload.read(16)
    if not isinstance(upload, bytes):
        upload.seek(0)
    if (len(head) >= 8 and head[4:8] == b"ftyp") or head[:4] == b"\x1a\x45\xdf\xa3":
        return clean_video(upload)
    return clean_image(upload)
