"""Photo-like pictures of QR codes for the decode endpoint's tests: a QR pasted onto a noisy,
blurred background, optionally turned, as a phone camera would see it (seeded, so repeatable)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageFilter

from o2o import qr

CAMERA = (1280, 720)


def noise(size: tuple[int, int], rng: random.Random) -> Image.Image:
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def photo(
    text: str,
    *,
    size: tuple[int, int] = CAMERA,
    qr_side: int = 300,
    angle: float = 0,
    seed: int = 12,
) -> Image.Image:
    """A camera-sized RGB picture of the QR of `text` on a cluttered background, turned by
    `angle` degrees, with sensor noise over all of it."""
    rng = random.Random(seed)
    background = noise(size, rng).filter(ImageFilter.GaussianBlur(6))
    scene = Image.merge("RGB", (background, background.point(lambda v: v * 0.8), background))
    code = Image.open(io.BytesIO(qr.render_png(text))).convert("RGB")
    code = code.resize((qr_side, qr_side), Image.Resampling.BILINEAR)
    left = rng.randrange(40, size[0] - qr_side - 40)
    top = rng.randrange(40, size[1] - qr_side - 40)
    scene.paste(code, (left, top))
    if angle:
        scene = scene.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(90, 90, 90))
    grain = Image.merge("RGB", [noise(size, rng) for _ in range(3)])
    return Image.blend(scene, grain, 0.18)


def jpeg(image: Image.Image, quality: int = 85, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, **save)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    """A JPEG whose pixels are stored turned, with the EXIF tag that tells a viewer to turn them
    back (6: the camera was held rotated 90° clockwise, 8: counter-clockwise)."""
    stored = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(image.transpose(stored), exif=exif.tobytes())


def plain_photo(size: tuple[int, int] = CAMERA, seed: int = 3) -> bytes:
    """A photo with no code in it."""
    rng = random.Random(seed)
    return jpeg(Image.merge("RGB", [noise(size, rng).filter(ImageFilter.GaussianBlur(3))] * 3))
