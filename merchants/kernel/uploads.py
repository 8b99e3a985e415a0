"""Upload checks (N-7): the one place that decides whether an uploaded file is an acceptable image.

Evidence (after-sales, appeals, delay reports) and refund vouchers all go through
`validate_image_upload`: as a model-field validator, or through the form fields below.
A file passes only if it is small enough, really decodes as one of the allowed formats, is not a
decompression bomb, and its extension names the format it decodes as (so `x.png` that is a JPEG,
a script renamed `.jpg`, or a truncated upload is refused with a message, never stored).

An accepted image is then stored re-encoded (`scrub_upload`, called by AttachmentBase.save): only its
pixels and colour profile are kept, so EXIF (the GPS position, the phone, the time), XMP and comments
never reach the storage. Orientation is applied to the pixels first, so the photo still stands upright.
"""

from __future__ import annotations

import warnings
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from unfold.widgets import UnfoldAdminFileFieldWidget

# Extensions each decoded format may carry (lower case, no dot).
FORMAT_EXTENSIONS = {
    "JPEG": ("jpg", "jpeg"),
    "PNG": ("png",),
    "WEBP": ("webp",),
    "GIF": ("gif",),
}
# Decompression-bomb guard: a few kilobytes can declare a gigapixel image. Checked on the header,
# before any pixel is decoded. A 50-megapixel phone photo still passes.


def _max_pixels() -> int:
    return settings.SHOUHOU_UPLOAD_MAX_PIXELS


def allowed_extensions() -> list[str]:
    return [ext for fmt in settings.SHOUHOU_UPLOAD_IMAGE_FORMATS for ext in FORMAT_EXTENSIONS.get(fmt, ())]


def _formats_label() -> str:
    return "、".join(settings.SHOUHOU_UPLOAD_IMAGE_FORMATS)


def validate_image_upload(file) -> str:
    """Raise ValidationError unless `file` is an acceptable image; returns its format (e.g. "PNG").

    Leaves the file at position 0 so it can be saved afterwards.
    """
    name = getattr(file, "name", "") or ""
    size = getattr(file, "size", None)
    max_bytes = settings.SHOUHOU_UPLOAD_MAX_BYTES
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("文件「%(name)s」大小为 %(size)s，超过上限 %(max)s。"),
            code="file_too_large",
            params={
                "name": PurePath(name).name,
                "size": filesizeformat(size),
                "max": filesizeformat(max_bytes),
            },
        )
    if size == 0:
        raise ValidationError(
            _("文件「%(name)s」是空文件。"), code="empty", params={"name": PurePath(name).name}
        )

    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in allowed_extensions():
        raise ValidationError(
            _("不支持的文件类型「%(ext)s」：只能上传 %(formats)s 格式的图片。"),
            code="invalid_extension",
            params={"ext": f".{extension}" if extension else name, "formats": _formats_label()},
        )

    image_format = _decode(file, name)

    if image_format not in settings.SHOUHOU_UPLOAD_IMAGE_FORMATS:
        raise ValidationError(
            _("图片格式 %(format)s 不被支持：只能上传 %(formats)s 格式的图片。"),
            code="invalid_format",
            params={"format": image_format, "formats": _formats_label()},
        )
    if extension not in FORMAT_EXTENSIONS.get(image_format, ()):
        raise ValidationError(
            _("文件「%(name)s」的扩展名与实际格式 %(format)s 不符，请使用正确的扩展名重新上传。"),
            code="extension_mismatch",
            params={"name": PurePath(name).name, "format": image_format},
        )
    return image_format


def _decode(file, name: str) -> str:
    """Open the image, check its declared size, verify its structure and decode every pixel."""
    not_an_image = ValidationError(
        _("文件「%(name)s」不是有效的图片，或文件已损坏，请重新上传。"),
        code="invalid_image",
        params={"name": PurePath(name).name},
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; here any bomb is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as image:
                image_format = image.format or ""
                width, height = image.size
                if width * height > _max_pixels():
                    raise ValidationError(
                        _("图片尺寸 %(width)d×%(height)d 过大，请压缩后再上传。"),
                        code="too_many_pixels",
                        params={"width": width, "height": height},
                    )
                image.verify()  # structure and checksums (PNG chunks, CRCs)
            # verify() leaves the image unusable: reopen and decode for real (catches truncation).
            file.seek(0)
            with Image.open(file) as image:
                image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ValidationError(_("图片尺寸过大，请压缩后再上传。"), code="too_many_pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        # OSError: truncated/corrupt data; SyntaxError: Pillow's "broken PNG"; the rest are decoder edge cases.
        raise not_an_image from exc
    finally:
        try:
            file.seek(0)
        except (OSError, ValueError):
            pass
    return image_format


# What survives re-encoding: the colour profile and what an animation or a palette needs. Everything
# else Pillow read from the file (exif, xmp, comment, text chunks, dpi, …) is dropped.
_KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "background")


def scrub_upload(file, *, name: str = ""):
    """The upload to store: an allowed image re-encoded in its own format without metadata, else `file`.

    Run on every new attachment (AttachmentBase.save); the image was already accepted by
    `validate_image_upload`, so a file Pillow cannot read here is simply stored as it came.
    """
    name = name or getattr(file, "name", "") or ""
    try:
        file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                if image.format not in settings.SHOUHOU_UPLOAD_IMAGE_FORMATS:
                    return _rewound(file)
                content = _reencode(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError):
        return _rewound(file)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ValidationError(_("图片尺寸过大，请压缩后再上传。"), code="too_many_pixels") from exc
    return ContentFile(content, name=PurePath(name).name or "upload")


def _rewound(file):
    file.seek(0)
    return file


def _reencode(image: Image.Image) -> bytes:
    import io

    image_format = image.format
    animated = getattr(image, "is_animated", False)
    params: dict = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    upright = image
    if not animated and image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
        upright = ImageOps.exif_transpose(image)  # the pixels turn; the Orientation tag goes with the rest
    if image_format == "JPEG":
        if upright is image:
            params.update(quality="keep", subsampling="keep")  # the source's own tables: no visible loss
        else:
            params.update(quality=92)
    elif image_format == "WEBP":
        params.update(quality=90)
    if animated:
        params["save_all"] = True
        params.pop("duration", None)  # each frame keeps its own
    if image_format == "GIF":
        params["comment"] = b""  # frames' comments would otherwise be copied into the new file
    elif image_format in ("WEBP", "PNG"):
        params.update(exif=b"", xmp=b"")
    upright.info = {key: value for key, value in upright.info.items() if key in _KEPT_INFO}
    buffer = io.BytesIO()
    upright.save(buffer, format=image_format, **params)
    return buffer.getvalue()


def _size_limit_text() -> str:
    return str(_("每个文件不超过 %(max)s。") % {"max": filesizeformat(settings.SHOUHOU_UPLOAD_MAX_BYTES)})


size_limit_text = lazy(_size_limit_text, str)
"""The size limit, said under every evidence input before anyone picks a file too large (issue 11 §15)."""


class EvidenceImageInput(UnfoldAdminFileFieldWidget):
    """The theme's file input (its button, the chosen file's name shown): a bare <input type=file> broke the
    theme's script, which looks for the label around the input when a file is picked."""


class EvidenceImageField(forms.FileField):
    """A form field for one evidence image or refund voucher, checked by `validate_image_upload`."""

    widget = EvidenceImageInput
    default_validators = [validate_image_upload]

    def __init__(self, *args, help_text="", **kwargs):
        limit = size_limit_text()
        help_text = format_lazy("{}{}", help_text, limit) if help_text else limit
        super().__init__(*args, help_text=help_text, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = ",".join(f".{ext}" for ext in allowed_extensions())
        return attrs


class MultipleImageInput(EvidenceImageInput):
    allow_multiple_selected = True


class EvidenceImagesField(EvidenceImageField):
    """Several evidence images in one input (at most `max_files`); cleans to a list of files."""

    widget = MultipleImageInput

    def __init__(self, *args, max_files: int = 9, **kwargs):
        self.max_files = max_files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if not files:
            return super().clean(None, initial) if self.required else []
        if len(files) > self.max_files:
            raise ValidationError(
                _("最多上传 %(max)d 张图片，本次选择了 %(count)d 张。"),
                code="too_many_files",
                params={"max": self.max_files, "count": len(files)},
            )
        errors, cleaned = [], []
        for f in files:
            try:
                cleaned.append(super().clean(f, initial))
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return cleaned
