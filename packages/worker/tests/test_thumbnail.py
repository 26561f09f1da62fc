"""The thumbnail handler, on images made here with Pillow, and a bad one through the worker."""

import base64
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import pytest
from celery import states
from celery.result import AsyncResult
from PIL import Image

from taskgate_contracts import TaskSettings
from taskgate_contracts.builtin.thumbnail import THUMBNAIL, ThumbnailArgs, ThumbnailResult, ThumbnailSettings
from taskgate_worker.tasks.thumbnail import FORMATS, make_thumbnail

Send = Callable[..., AsyncResult]
WAIT = 10
#: The tests' THUMBNAIL_MAX_PIXELS (conftest's environment).
WORKER_MAX_PIXELS = 1_000_000


@dataclass
class Context:
    """What the worker would hand the handler; it reports nothing and is never cancelled."""

    settings: TaskSettings | None = None
    task_id: str = "a-task"
    attempt: int = 1

    def report(self, percent: float, message: str = "", *, current: int = 0, total: int = 0) -> None:
        raise AssertionError("a thumbnail takes too little time to report progress")

    def raise_if_cancelled(self) -> None:
        pass


def _file(image: Image.Image, file_format: str = "PNG") -> bytes:
    out = BytesIO()
    image.save(out, file_format)
    return out.getvalue()


def _noise(size: tuple[int, int]) -> Image.Image:
    """An image that does not compress, so its file is as long as its pixels."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def _claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims another size (with a valid checksum): a decompression bomb's header."""
    png = bytearray(_file(Image.new("RGB", (1, 1))))
    png[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    png[29:33] = struct.pack(">I", zlib.crc32(png[12:29]))  # the CRC of IHDR's type and data
    return bytes(png)


def _args(data: bytes, width: int = 100, height: int = 100) -> ThumbnailArgs:
    return ThumbnailArgs.model_validate({"image": base64.b64encode(data), "width": width, "height": height})


def _thumbnail(
    data: bytes, width: int = 100, height: int = 100, max_pixels: int | None = None
) -> Image.Image:
    settings = None if max_pixels is None else ThumbnailSettings(thumbnail_max_pixels=max_pixels)
    result = make_thumbnail(_args(data, width, height), Context(settings))
    thumbnail = Image.open(BytesIO(result.image))
    assert thumbnail.format == "PNG"
    assert (result.width, result.height, result.format) == (*thumbnail.size, "png")
    return thumbnail


def _refusal(data: bytes, max_pixels: int | None = None) -> str:
    with pytest.raises(ValueError, match=r"^(the image|not an image) ") as raised:
        _thumbnail(data, max_pixels=max_pixels)
    assert type(raised.value) is ValueError  # builtin: the api rebuilds it without worker code
    return str(raised.value)


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((400, 200), (100, 100), (100, 50)),
        ((200, 400), (100, 100), (50, 100)),
        ((400, 200), (300, 50), (100, 50)),
        ((40, 20), (100, 100), (40, 20)),  # never scaled up
    ],
)
def test_the_image_is_shrunk_to_fit_the_box_keeping_its_aspect_ratio(
    size: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert _thumbnail(_file(_noise(size)), *box).size == expected


def test_a_photo_is_turned_upright_by_its_exif_orientation() -> None:
    photo = Image.new("RGB", (400, 200))
    exif = photo.getexif()
    exif[0x0112] = 6  # Orientation: the camera was turned a quarter; shown upright the photo is 200x400
    out = BytesIO()
    photo.save(out, "JPEG", exif=exif)
    assert _thumbnail(out.getvalue(), 100, 100).size == (50, 100)


@pytest.mark.parametrize("file_format", FORMATS)
def test_each_accepted_format_is_read(file_format: str) -> None:
    assert _thumbnail(_file(_noise((64, 32)), file_format), 16, 16).size == (16, 8)


@pytest.mark.parametrize(
    ("mode", "file_format", "thumbnail_mode"),
    [
        ("1", "PNG", "L"),
        ("L", "JPEG", "L"),
        ("LA", "PNG", "LA"),
        ("P", "GIF", "RGB"),
        ("PA", "TIFF", "RGBA"),
        ("RGBA", "WEBP", "RGBA"),
        ("CMYK", "JPEG", "RGB"),
        ("LAB", "TIFF", "RGB"),
        ("I;16", "PNG", "L"),
        ("I", "TIFF", "L"),
        ("F", "TIFF", "L"),
    ],
)
def test_any_accepted_mode_becomes_one_png_holds(mode: str, file_format: str, thumbnail_mode: str) -> None:
    image = Image.new(mode, (64, 32))
    assert Image.open(BytesIO(_file(image, file_format))).mode == mode  # the file really holds that mode

    assert _thumbnail(_file(image, file_format), 16, 16).mode == thumbnail_mode


def test_sixteen_bit_grayscale_is_scaled_not_clipped() -> None:
    sixteen_bit = Image.new("I;16", (8, 8), 0x8080)

    assert _thumbnail(_file(sixteen_bit), 4, 4).getpixel((0, 0)) == 0x80


def test_a_transparent_palette_keeps_its_transparency() -> None:
    palette = Image.new("P", (8, 8), 0)
    palette.paste(1, (0, 0, 4, 8))  # the left half in colour 1, which the file says is transparent
    gif = BytesIO()
    palette.save(gif, "GIF", transparency=1)

    thumbnail = _thumbnail(gif.getvalue(), 4, 4)
    assert thumbnail.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert thumbnail.getpixel((3, 0))[3] == 255  # type: ignore[index]


@pytest.mark.parametrize(
    "data",
    [b"not an image at all", _file(Image.new("RGB", (8, 8)), "PPM"), _file(Image.new("RGB", (8, 8)), "ICO")],
    ids=["text", "ppm", "ico"],
)
def test_what_is_not_an_accepted_image_is_refused(data: bytes) -> None:
    assert _refusal(data) == "not an image in a format accepted here (PNG, JPEG, GIF, WEBP, BMP, TIFF)"


def test_a_truncated_image_is_refused() -> None:
    png = _file(_noise((300, 300)))

    assert _refusal(png[: len(png) // 2]) == "the image cannot be read: image file is truncated"


def test_a_corrupt_image_is_refused() -> None:
    png = bytearray(_file(_noise((300, 300))))
    png[5000:5010] = bytes(10)

    assert _refusal(bytes(png)).startswith("the image cannot be read: ")


def test_a_header_claiming_too_many_pixels_is_refused_before_decoding() -> None:
    # Decoded, this file would fail as truncated: the size check came first.
    assert _refusal(_claiming(6000, 6000)) == (
        "the image is 6000x6000, 36000000 pixels: more than the 25000000 THUMBNAIL_MAX_PIXELS allows"
    )


def test_a_small_file_of_many_pixels_is_refused() -> None:
    blank = _file(Image.new("L", (2000, 2000), 255))
    assert len(blank) < 10_000

    assert _refusal(blank, max_pixels=1_000_000) == (
        "the image is 2000x2000, 4000000 pixels: more than the 1000000 THUMBNAIL_MAX_PIXELS allows"
    )


@pytest.mark.parametrize("side", [10_000, 20_000], ids=["pillow-warns", "pillow-refuses"])
def test_pillows_own_bomb_bound_fails_the_task_too(side: int) -> None:
    message = _refusal(_claiming(side, side), max_pixels=10**12)

    assert message.startswith(f"the image is too large to decode: Image size ({side * side} pixels) exceeds")


def test_the_worker_makes_a_thumbnail(send_to: Send) -> None:
    result = send_to(THUMBNAIL, image=base64.b64encode(_file(_noise((80, 40)))).decode(), width=20, height=20)

    thumbnail = ThumbnailResult.model_validate(result.get(timeout=WAIT))
    assert (thumbnail.width, thumbnail.height, thumbnail.format) == (20, 10, "png")
    assert Image.open(BytesIO(thumbnail.image)).size == (20, 10)


def test_the_worker_fails_a_bad_image_cleanly_and_keeps_serving(send_to: Send) -> None:
    side = 1001  # just past the worker's THUMBNAIL_MAX_PIXELS
    bomb = send_to(THUMBNAIL, image=base64.b64encode(_claiming(side, side)).decode(), width=8, height=8)

    with pytest.raises(ValueError, match=f"more than the {WORKER_MAX_PIXELS} THUMBNAIL_MAX_PIXELS allows"):
        bomb.get(timeout=WAIT)
    assert bomb.state == states.FAILURE
    pixel = base64.b64encode(_file(Image.new("RGB", (1, 1)))).decode()
    assert send_to(THUMBNAIL, image=pixel, width=8, height=8).get(timeout=WAIT)["width"] == 1
