"""Read a QR code from an uploaded photo (the only module importing zxing-cpp and Pillow)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from o2o.errors import O2OError, field_error
from o2o.vocabulary import ErrorCode

# What phones and tills send; every other decoder Pillow carries stays out of reach of uploads.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
# A phone camera's photo is ~12-50 MP; a QR needs far fewer pixels than that to be read.
DECODE_SIDES = (1600, 800, 2400)
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def read_qr(data: bytes, max_pixels: int) -> str:
    """The text of the first QR code in an image file; 422 validation_error on `image` for what
    is not a whole image, 413 for more than `max_pixels` pixels, 422 no_code_found for none."""
    image = _load(data, max_pixels)
    for attempt in _attempts(image):
        results = zxingcpp.read_barcodes(attempt, formats=QR_ONLY)
        for result in results:
            if result.valid and result.text:
                return str(result.text)
    raise O2OError(ErrorCode.NO_CODE_FOUND)


def _load(data: bytes, max_pixels: int) -> Image.Image:
    """The upload's pixels, upright (EXIF orientation applied), in greyscale."""
    if not data:
        raise field_error("image", "The file is empty.")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        _check_pixels(image.size, max_pixels)  # before a single pixel is decompressed
        image.load()
        upright = ImageOps.exif_transpose(image) or image
        return upright.convert("L")
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(max_pixels) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        # Pillow raises all of these for bytes that are not, or not all of, an image
        raise field_error(
            "image", "This file is not a whole JPEG, PNG, WebP, GIF or BMP image."
        ) from error


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)


def _too_many_pixels(max_pixels: int) -> O2OError:
    return O2OError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The image has more than {max_pixels} pixels.",
        details={"field": "image", "max_pixels": max_pixels},
    )


def _attempts(image: Image.Image) -> Iterator[Image.Image]:
    """The image as it is decoded, best bet first: downscaled to a few sizes, then with its
    contrast stretched and thresholded to black and white (dim or washed-out photos)."""
    for side in DECODE_SIDES:
        if side > max(image.size) and side != DECODE_SIDES[0]:
            continue
        yield _fit(image, side)
    contrasted = ImageOps.autocontrast(_fit(image, DECODE_SIDES[0]), cutoff=2)
    yield contrasted.point(lambda value: 255 if value > 127 else 0)


def _fit(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) <= side:
        return image
    smaller = image.copy()
    smaller.thumbnail((side, side), Image.Resampling.LANCZOS)
    return smaller
