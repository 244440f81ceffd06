"""The Pillow baselines: real bytes, right shapes, quality rising with rate, 4:2:0 JPEG."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from compression_eval import baselines
from compression_zoo import registry
from compression_eval.errors import UserError
from compression_eval.metrics import psnr
from tests.conftest import smooth_image


@pytest.mark.parametrize("name", ["jpeg", "jpeg2000", "webp", "avif"])
def test_codec_round_trips_odd_sizes_and_rate_buys_quality(name):
  codec = registry.make_codec(name)
  image = smooth_image(37, 53)
  points = codec.roundtrips(image)
  assert len(points) == len(codec.settings)
  for point in points:
    assert point.reconstruction.shape == image.shape
    assert point.reconstruction.dtype == np.uint8
    assert point.num_bits == 8 * len(codec.encode(image, point.setting))
  bits = [point.num_bits for point in points]
  quality = [psnr(image, point.reconstruction) for point in points]
  # More bits should buy more quality: the best-rate point beats the lowest-rate one.
  assert quality[int(np.argmax(bits))] > quality[int(np.argmin(bits))] + 3


def test_jpeg_uses_420_chroma_subsampling():
  data = baselines.jpeg().encode(smooth_image(64, 64), 75)
  with Image.open(io.BytesIO(data)) as image:
    assert JpegImagePlugin.get_sampling(image) == 2  # Pillow's code for 4:2:0


def test_jpeg2000_hits_its_target_rate():
  image = smooth_image(256, 256)
  for target in (0.25, 1.0):
    data = baselines.jpeg2000().encode(image, target)
    assert 8 * len(data) / (256 * 256) == pytest.approx(target, rel=0.1)


def test_unknown_codec_is_a_user_error():
  with pytest.raises(UserError, match="unknown codec 'jpeg3000'"):
    registry.make_codec("jpeg3000")
