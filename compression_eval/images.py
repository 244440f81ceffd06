"""Reading any image a user hands us as 8-bit RGB.

Codecs and metrics in this project work on uint8 RGB arrays of shape (H, W, 3). Real
files are greyscale, palette, RGBA, 16-bit or EXIF-rotated; they are converted here,
once, so that every codec sees the same pixels.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from compression_eval.errors import UserError
from compression_eval.fileio import atomic_write_bytes

# Pillow refuses images above this many pixels as possible decompression bombs; keep its
# guard but allow large photos (e.g. 8000x6000) explicitly. The codecs refuse files that
# declare more, for the same reason (`check_pixel_count`).
MAX_PIXELS = 16384 * 16384
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def to_rgb8(image: Image.Image) -> np.ndarray:
  """Converts a Pillow image of any mode to a uint8 (H, W, 3) array.

  EXIF orientation is applied; 16-bit and 32-bit greyscale are scaled to 8 bits (not
  clipped); alpha is composited onto white, as a viewer would show it.
  """
  image = ImageOps.exif_transpose(image)
  if image.mode in ("I;16", "I;16B", "I;16L", "I", "I;16N"):
    values = np.asarray(image, dtype=np.float64)
    peak = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
    grey = np.clip(np.round(values * (255.0 / peak)), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)
  if image.mode == "F":
    grey = np.clip(np.round(np.asarray(image, dtype=np.float64)), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)
  if image.mode == "P":
    image = image.convert("RGBA")
  if image.mode in ("RGBA", "LA", "PA") or (image.mode == "RGB" and "transparency" in image.info):
    image = image.convert("RGBA")
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    image = Image.alpha_composite(background, image)
  return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def check_pixel_count(height: int, width: int, what: str, limit: int = MAX_PIXELS) -> None:
  """Refuses a declared image size above `limit` pixels before anything of that size exists.

  A few header bytes can declare a 65535x65535 image; decoding it would allocate
  gigabytes and take hours, so like Pillow's decompression-bomb guard this fails first.
  """
  if height * width > limit:
    raise UserError(f"{what} declares a {width}x{height} image, more than the "
                    f"{limit / 2**20:g} Mpixel limit")


def read_rgb8(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
  """Reads an image file as uint8 RGB, or raises `UserError` naming the file.

  The size in the file's header is checked against `max_pixels` before any pixel is
  decoded.
  """
  path = Path(path)
  if not path.is_file():
    raise UserError(f"image not found: {path}")
  try:
    with Image.open(path) as image:
      check_pixel_count(image.height, image.width, f"image {path}", max_pixels)
      image.load()
      return to_rgb8(image)
  except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
          SyntaxError) as error:
    raise UserError(f"cannot read image {path}: {error}") from None


def decode_rgb8(data: bytes) -> np.ndarray:
  """Decodes encoded image bytes (any format Pillow reads) to uint8 RGB."""
  with Image.open(io.BytesIO(data)) as image:
    image.load()
    return to_rgb8(image)


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
  """Writes a uint8 RGB array as PNG, atomically."""
  buffer = io.BytesIO()
  Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
  return atomic_write_bytes(path, buffer.getvalue())


# The files `read_folder` takes as images, by extension (any other file is passed over).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                  ".gif")


def read_folder(folder: str | os.PathLike) -> List[Tuple[str, np.ndarray]]:
  """Every image directly in `folder` as (name, uint8 RGB), in file-name order: a user's
  own photos to evaluate codecs on, of any sizes and modes (converted as `to_rgb8` does).

  Names are the file names without extension, or with it where two files share one.
  """
  folder = Path(folder)
  if not folder.is_dir():
    raise UserError(f"image folder not found: {folder}")
  paths = sorted(path for path in folder.iterdir()
                 if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file())
  if not paths:
    raise UserError(f"{folder} holds no images (files ending {', '.join(IMAGE_SUFFIXES)})")
  stems = [path.stem for path in paths]
  return [(path.stem if stems.count(path.stem) == 1 else path.name, read_rgb8(path))
          for path in paths]
