"""The handler of `thumbnail`: an image shrunk to fit a box, as PNG, with Pillow (the `thumbnail` extra).

The image comes from a client, so nothing about it is trusted. Only the formats below are opened; the
size its header claims is checked against THUMBNAIL_MAX_PIXELS before a pixel is decoded, so a small
file cannot decompress into gigabytes; and whatever Pillow cannot read (not an image, truncated, corrupt,
past Pillow's own decompression-bomb bound) fails the task with a ValueError saying why. A photo is
turned upright by its EXIF orientation before it is shrunk.
"""

import base64
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from taskgate_contracts import TaskContext
from taskgate_contracts.builtin.thumbnail import ThumbnailArgs, ThumbnailResult, ThumbnailSettings

#: What Pillow may open: common raster formats, none that runs an interpreter (EPS) or is rarely used.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
#: What Pillow raises, past its header checks, for a file it cannot read.
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
#: Modes Pillow resamples smoothly and writes as PNG; others are converted to one of them first.
_KEPT_MODES = frozenset({"L", "LA", "RGB", "RGBA"})
_INTEGER_GRAYSCALE = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
#: Integer grayscale is 16-bit in the formats above: 65535 / 257 is 255.
_SIXTEEN_TO_EIGHT_BITS = 1 / 257


def make_thumbnail(args: ThumbnailArgs, context: TaskContext) -> ThumbnailResult:
    settings = context.settings
    if not isinstance(settings, ThumbnailSettings):
        settings = ThumbnailSettings()  # run without a deployment's settings: the defaults
    max_pixels = settings.thumbnail_max_pixels
    with _reading():
        image: Image.Image = Image.open(BytesIO(args.image), formats=FORMATS)
    pixels = image.width * image.height
    if pixels > max_pixels:
        raise ValueError(
            f"the image is {image.width}x{image.height}, {pixels} pixels: more than the "
            f"{max_pixels} THUMBNAIL_MAX_PIXELS allows"
        )
    with _reading():
        # A photo's camera writes which way is up beside the pixels; the thumbnail is shown upright.
        image = _png_ready(ImageOps.exif_transpose(image))
        image.thumbnail((args.width, args.height))
    png = BytesIO()
    image.save(png, "PNG")
    return ThumbnailResult(image=base64.b64encode(png.getvalue()), width=image.width, height=image.height)


@contextmanager
def _reading() -> Iterator[None]:
    """Pillow's failures on an image it cannot read, as one ValueError."""
    try:
        with warnings.catch_warnings():
            # Past MAX_IMAGE_PIXELS Pillow only warns; twice past it, it raises.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except UnidentifiedImageError:
        raise ValueError(f"not an image in a format accepted here ({', '.join(FORMATS)})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"the image is too large to decode: {exc}") from None
    except _UNREADABLE as exc:
        raise ValueError(f"the image cannot be read: {exc}") from None


def _png_ready(image: Image.Image) -> Image.Image:
    """The image in a mode Pillow resamples smoothly (not a palette) and PNG can hold (not CMYK)."""
    if image.mode in _KEPT_MODES:
        return image
    if image.mode in _INTEGER_GRAYSCALE:
        # Converted as it is, 16-bit grayscale would be clipped to 255: nearly white.
        return image.convert("I").point(lambda value: value * _SIXTEEN_TO_EIGHT_BITS).convert("L")
    if image.mode == "La":
        return image.convert("LA")
    if image.mode in ("1", "F"):
        return image.convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")
