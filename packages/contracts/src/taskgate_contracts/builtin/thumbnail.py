"""`thumbnail`: an image shrunk to fit a box, returned as PNG.

The image travels base64-encoded in the JSON body, so it must fit in the api's MAX_BODY_BYTES. The api
checks the box; only the worker opens the image (with Pillow, its `thumbnail` extra), so an image it
cannot read, or one that would decompress into more than THUMBNAIL_MAX_PIXELS pixels, fails the task
with the reason instead of reaching a 422.
"""

import re
from typing import Annotated

from pydantic import Base64Bytes, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from taskgate_contracts.tasks import TaskSettings, TaskSpec

#: The largest box a client may ask for, in pixels per side.
MAX_SIDE = 4096


def _whole(value: object) -> object:
    """JSON Schema counts 64.0 as an integer, so a client may send it; strings are still refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Side = Annotated[int, Field(gt=0, le=MAX_SIDE, strict=True), BeforeValidator(_whole)]

#: Standard base64, padded: what the schema promises, and so what is taken (Python's decoder alone would
#: skip characters outside the alphabet).
_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _standard_base64(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(_BASE64, value):
        raise PydanticCustomError(
            "base64_decode", "Input should be standard base64: A-Z, a-z, 0-9, + and /, padded with ="
        )
    return value


ImageFile = Annotated[
    Base64Bytes,
    Field(min_length=1, json_schema_extra={"pattern": _BASE64}),
    BeforeValidator(_standard_base64),
]
#: A 1×1 transparent PNG, for examples.
_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


class ThumbnailSettings(TaskSettings):
    thumbnail_max_pixels: int = Field(
        25_000_000,
        gt=0,
        description="Images with more pixels than this are refused before they are decoded "
        "(THUMBNAIL_MAX_PIXELS): a small file must not decompress into gigabytes.",
    )


class ThumbnailArgs(BaseModel):
    """An image (PNG, JPEG, GIF, WebP, BMP or TIFF) and the box its thumbnail must fit in."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"image": _PIXEL, "width": 64, "height": 64}]}
    )

    image: ImageFile = Field(description="The image file, base64-encoded.")
    width: Side = Field(description="Width of the box in pixels.")
    height: Side = Field(description="Height of the box in pixels.")


class ThumbnailResult(BaseModel):
    """The thumbnail: the image scaled down (never up) to fit the box, keeping its aspect ratio."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"image": _PIXEL, "width": 1, "height": 1, "format": "png"}]},
    )

    image: Base64Bytes = Field(description="The thumbnail as a PNG file, base64-encoded.")
    width: int = Field(ge=1, description="Its width in pixels.")
    height: int = Field(ge=1, description="Its height in pixels.")
    format: str = Field("png", description="The thumbnail's file format.")


THUMBNAIL = TaskSpec(
    name="thumbnail",
    args=ThumbnailArgs,
    result=ThumbnailResult,
    description="Shrink an image to fit a box and return it as PNG, with its size.",
    soft_time_limit=30.0,
    settings=ThumbnailSettings,
)
