"""Determinism: compress twice gives the same bytes, and another process writes those bytes
and decodes them to the same pixels."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec
from r2i_tf.saved_codec import SavedCodec as R2ICodec
from tests.conftest import REPO_ROOT, smooth_image

_OTHER_PROCESS = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec
    from r2i_tf.saved_codec import SavedCodec as R2ICodec
    from tests.test_determinism import image
    folder = Path(sys.argv[1])
    for name, path in zip(("deepsic", "r2i", "ir2i"), sys.argv[2:]):
      codec = (DeepSICCodec if name == "deepsic" else R2ICodec)(path)
      first, second = codec.compress(image()), codec.compress(image())
      assert first == second, f"{name}: two compressions differ"
      (folder / f"{name}.bin").write_bytes(first)
      np.save(folder / f"{name}.npy", codec.decompress(first).image)
""")


def image() -> np.ndarray:
  return smooth_image(70, 100, seed=5)


@pytest.fixture(scope="module")
def other_process(tmp_path_factory, exported, r2i_exported, ir2i_exported):
  """Files and decoded images from a fresh process, and the codecs that made them."""
  folder = tmp_path_factory.mktemp("other_process")
  paths = {"deepsic": exported["pre"], "r2i": r2i_exported, "ir2i": ir2i_exported}
  result = subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(folder),
                           *map(str, paths.values())], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return folder, paths


@pytest.mark.parametrize("name", ["deepsic", "r2i", "ir2i"])
def test_files_and_pixels_are_the_same_in_every_process(other_process, name):
  folder, paths = other_process
  codec = (DeepSICCodec if name == "deepsic" else R2ICodec)(paths[name])
  data = (folder / f"{name}.bin").read_bytes()
  assert codec.compress(image()) == data
  np.testing.assert_array_equal(codec.decompress(data).image, np.load(folder / f"{name}.npy"))
