"""The photo loader of POST /scans/image: upright by EXIF, greyscale, refusals as the API's."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from o2o.errors import O2OError
from o2o.qr_reader import _load, read_qr
from tests.api.photos import jpeg, photo, with_orientation

MAX_PIXELS = 50_000_000


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_photo_stored_turned_is_loaded_upright_by_its_exif_orientation(orientation: int) -> None:
    upright = photo("O2O", size=(1280, 720))
    stored = with_orientation(upright, orientation)
    assert Image.open(io.BytesIO(stored)).size == (720, 1280)  # as stored
    loaded = _load(stored, MAX_PIXELS)
    assert (loaded.size, loaded.mode) == ((1280, 720), "L")


def test_a_photo_is_read_as_the_text_of_its_qr_code() -> None:
    assert read_qr(jpeg(photo("123456789012345678", angle=12)), MAX_PIXELS) == "123456789012345678"


def test_a_picture_over_the_pixel_limit_is_refused_before_it_is_decompressed() -> None:
    with pytest.raises(O2OError) as refused:
        read_qr(jpeg(photo("x")), max_pixels=1280 * 720 - 1)
    assert (refused.value.code, refused.value.status) == ("payload_too_large", 413)
