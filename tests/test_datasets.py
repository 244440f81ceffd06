"""Tests for compression_eval.datasets: Kodak builder, image folders, specs, pipelines."""
from __future__ import annotations

import hashlib
import io
import re
import socket
import tarfile
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from compression_eval.datasets import (
    ImageFolderSource,
    Kodak,
    center_patch,
    classification_dataset,
    classification_pipeline,
    decode_files,
    load_kodak,
    patch_pipeline,
)
from compression_eval.datasets import classification, network
from compression_eval.datasets.kodak import KODAK_FILES, KODAK_URL
from compression_eval.errors import UserError
from compression_eval.images import read_rgb8
from tests.conftest import smooth_image

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KODAK_DIR = SHARED_DATA / "kodak"
IMAGENETTE_DIR = SHARED_DATA / "imagenette"
# Portrait images, 768 high and 512 wide; the other 18 are 512 high and 768 wide. (The
# suite has 6 of them, not the 7 that some descriptions, including data/README.md, say.)
PORTRAIT = {"kodim04", "kodim09", "kodim10", "kodim17", "kodim18", "kodim19"}

needs_kodak = pytest.mark.skipif(
    not (KODAK_DIR / "kodim24.png").is_file(), reason=f"shared Kodak data not at {KODAK_DIR}"
)
needs_imagenette = pytest.mark.skipif(
    not (IMAGENETTE_DIR / "train").is_dir(), reason=f"shared Imagenette not at {IMAGENETTE_DIR}"
)


@pytest.fixture
def offline(monkeypatch) -> None:
  """No network, whatever this machine has: every host lookup fails, and no proxy is set
  (the probe would name the proxy, not the host, and connect to it)."""
  def no_lookup(host, *args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, f"{host}: no network in this test")

  monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
  for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
    monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(name.upper(), raising=False)


# --- Kodak ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kodak_build(tmp_path_factory):
  """The shared folder built once into a fresh data dir: (data_dir, images)."""
  if not (KODAK_DIR / "kodim24.png").is_file():
    pytest.skip(f"shared Kodak data not at {KODAK_DIR}")
  data_dir = tmp_path_factory.mktemp("tfds")
  before = sorted(KODAK_DIR.iterdir())
  images = load_kodak(KODAK_DIR, data_dir)
  assert sorted(KODAK_DIR.iterdir()) == before, "the build wrote into the Kodak folder"
  return data_dir, images


def test_kodak_builder_reads_the_shared_folder(kodak_build):
  data_dir, images = kodak_build
  assert [name for name, _ in images] == [f"kodim{i:02d}" for i in range(1, 25)]
  for name, image in images:
    assert image.dtype == np.uint8
    assert image.shape == ((768, 512, 3) if name in PORTRAIT else (512, 768, 3)), name
  assert (data_dir / "kodak" / "1.0.0" / "dataset_info.json").is_file()
  assert not list((data_dir / "downloads").rglob("*kodim*")), "local files must not be downloaded"


def test_kodak_pixels_match_pillow(kodak_build):
  images = dict(kodak_build[1])
  for name in ("kodim01", "kodim04"):
    np.testing.assert_array_equal(images[name], read_rgb8(KODAK_DIR / f"{name}.png"))


def test_kodak_prepared_dataset_is_reused_without_source(kodak_build):
  # Without kodak_dir a fresh build would have to download; the prepared copy is used.
  data_dir, images = kodak_build
  again = load_kodak(None, data_dir)
  assert [name for name, _ in again] == [name for name, _ in images]
  np.testing.assert_array_equal(again[5][1], images[5][1])


@needs_kodak
def test_kodak_folder_missing_files_names_them(tmp_path):
  partial = tmp_path / "partial"
  partial.mkdir()
  for name in KODAK_FILES:
    if name not in ("kodim07.png", "kodim23.png"):
      (partial / name).symlink_to(KODAK_DIR / name)
  with pytest.raises(UserError, match=r"lacks 2 of the 24 images: kodim07\.png, kodim23\.png"):
    load_kodak(partial, tmp_path / "tfds")
  assert not (tmp_path / "tfds").exists()


def test_kodak_dir_that_does_not_exist(tmp_path):
  with pytest.raises(UserError, match=r"Kodak folder not found: .*nowhere.*--kodak-dir"):
    load_kodak(tmp_path / "nowhere", tmp_path / "tfds")


@needs_kodak
def test_kodak_folder_with_a_different_file_fails_checksum(tmp_path):
  folder = tmp_path / "altered"
  folder.mkdir()
  for name in KODAK_FILES[1:]:
    (folder / name).symlink_to(KODAK_DIR / name)
  Image.fromarray(np.zeros((512, 768, 3), np.uint8)).save(folder / "kodim01.png")
  with pytest.raises(UserError, match=r"kodim01\.png.*wrong checksum"):
    load_kodak(folder, tmp_path / "tfds")
  assert not (tmp_path / "tfds" / "kodak" / "1.0.0").exists()


def test_kodak_without_network_or_folder_fails_fast(tmp_path, offline):
  start = time.monotonic()
  with pytest.raises(UserError, match=r"cannot reach r0k\.us.*--kodak-dir DIR"):
    load_kodak(None, tmp_path / "tfds")
  assert time.monotonic() - start < 10


@needs_kodak
def test_checksums_tsv_is_found_by_tfds_and_matches_the_files():
  infos = Kodak.url_infos  # tfds reads checksums.tsv from beside the builder module
  assert infos is not None and sorted(infos) == [KODAK_URL + name for name in KODAK_FILES]
  for url, info in infos.items():
    data = (KODAK_DIR / info.filename).read_bytes()
    assert url.endswith("/" + info.filename)
    assert (info.size, info.checksum) == (len(data), hashlib.sha256(data).hexdigest())


# --- ImageNet-layout folders ---------------------------------------------------------

# Each class's images are one flat colour, so a patch tells which label it must carry.
COLOURS = {"n01": (200, 200, 200), "n02": (0, 0, 255), "n03": (255, 0, 0), "n04": (0, 255, 0)}


def _save(path: Path, size_hw: tuple[int, int], colour, mode: str = "RGB") -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  value = colour[0] if mode == "L" else colour
  image_format = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
  Image.new(mode, size_hw[::-1], value).save(path, format=image_format)


@pytest.fixture
def tree(tmp_path) -> Path:
  """ImageNet layout with greyscale, small and mixed-case files; n04 exists only in val."""
  root = tmp_path / "tree"
  _save(root / "train/n03/a.png", (40, 48), COLOURS["n03"])
  _save(root / "train/n03/b.JPEG", (50, 40), COLOURS["n03"])
  _save(root / "train/n01/grey.png", (36, 36), COLOURS["n01"], mode="L")
  _save(root / "train/n01/small.jpg", (24, 20), COLOURS["n01"])
  _save(root / "train/n02/d.PNG", (64, 80), COLOURS["n02"])
  (root / "train/n02/notes.txt").write_text("not an image")
  _save(root / "val/n01/e.png", (40, 40), COLOURS["n01"])
  _save(root / "val/n04/f.png", (40, 40), COLOURS["n04"])
  return root


def test_folder_labels_follow_sorted_class_folders(tree):
  source = ImageFolderSource.scan(tree, "train")
  assert source.class_names == ("n01", "n02", "n03", "n04")
  names = [Path(path).name for path in source.paths]
  assert names == ["grey.png", "small.jpg", "d.PNG", "a.png", "b.JPEG"]
  assert source.labels == (0, 0, 1, 2, 2)
  assert ImageFolderSource.scan(tree, "val").labels == (0, 3)


def test_folder_label_order_matches_tfds_image_folder(tree):
  names = tfds.ImageFolder(str(tree)).info.features["label"].names
  assert tuple(names) == ImageFolderSource.scan(tree, "train").class_names


def test_folder_errors_say_what_layout_is_expected(tree, tmp_path):
  with pytest.raises(UserError, match=r"not found: .*missing.*train\|val/<wnid>"):
    ImageFolderSource.scan(tmp_path / "missing", "train")
  with pytest.raises(UserError, match=r"has no test/ folder"):
    ImageFolderSource.scan(tree, "test")
  (tree / "empty/n01").mkdir(parents=True)
  with pytest.raises(UserError, match=r"no JPEG or PNG images in .*empty"):
    ImageFolderSource.scan(tree, "empty")


def test_decode_turns_greyscale_into_rgb(tree):
  (image,) = list(decode_files([str(tree / "train/n01/grey.png")]).as_numpy_iterator())
  assert image.shape == (36, 36, 3) and image.dtype == np.uint8
  assert (image == 200).all()


def test_patch_pipeline_keeps_labels_with_their_images(tree):
  source = ImageFolderSource.scan(tree, "train")
  batches = patch_pipeline(
      source.paths, source.labels, patch_size=32, batch_size=2, seed=1, repeat=True
  ).take(10)
  for patches, labels in batches.as_numpy_iterator():
    assert patches.shape == (2, 32, 32, 3) and patches.dtype == np.float32
    assert labels.dtype == np.int64
    assert 0.0 <= patches.min() and patches.max() <= 1.0
    for patch, label in zip(patches, labels):
      expected = np.array(COLOURS[source.class_names[label]]) / 255.0
      np.testing.assert_allclose(patch.mean(axis=(0, 1)), expected, atol=3 / 255)


def test_several_patches_per_image_keep_their_labels_and_vary(tree, tmp_path):
  source = ImageFolderSource.scan(tree, "train")
  images = decode_files(source.paths, source.labels)
  batches = list(classification_pipeline(images, patch_size=16, batch_size=1, seed=2,
                                         patches_per_image=4).as_numpy_iterator())
  assert len(batches) == 4 * len(source.paths)  # every image gives four patches
  for patches, labels in batches:
    expected = np.array(COLOURS[source.class_names[labels[0]]]) / 255.0
    np.testing.assert_allclose(patches[0].mean(axis=(0, 1)), expected, atol=3 / 255)
  noise = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
  Image.fromarray(noise).save(tmp_path / "noise.png")
  patches = [batch[0] for batch in classification_pipeline(
      decode_files([str(tmp_path / "noise.png")]), patch_size=16, batch_size=1, seed=0,
      patches_per_image=4, dtype=tf.uint8).as_numpy_iterator()]
  windows = {_find(noise, p) or _find(noise, p[:, ::-1]) for p in patches}
  assert None not in windows and len(windows) > 1


def _patches(path: Path, seed: int, patch_size: int, count: int) -> list[np.ndarray]:
  """The first `count` training patches of the one image at `path`, passed over repeatedly."""
  dataset = patch_pipeline(
      [str(path)], patch_size=patch_size, batch_size=1, seed=seed, repeat=True, dtype=tf.uint8
  )
  return [batch[0] for batch in dataset.take(count).as_numpy_iterator()]


def _find(image: np.ndarray, patch: np.ndarray) -> tuple[int, int] | None:
  """The (top, left) where `patch` occurs in `image`, if it does."""
  size = patch.shape[0]
  for top in range(image.shape[0] - size + 1):
    for left in range(image.shape[1] - size + 1):
      if np.array_equal(image[top:top + size, left:left + size], patch):
        return top, left
  return None


def test_random_crops_vary_and_the_seed_reproduces_them(tmp_path):
  image = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
  Image.fromarray(image).save(tmp_path / "noise.png")
  patches = _patches(tmp_path / "noise.png", seed=0, patch_size=16, count=6)
  windows = set()
  for patch in patches:
    window = _find(image, patch) or _find(image, patch[:, ::-1])
    assert window is not None, "a patch is no (flipped) window of the image"
    windows.add(window)
  assert len(windows) > 1
  np.testing.assert_array_equal(patches, _patches(tmp_path / "noise.png", 0, 16, 6))
  assert not np.array_equal(patches, _patches(tmp_path / "noise.png", 1, 16, 6))


def test_random_flips_happen_both_ways(tmp_path):
  image = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
  Image.fromarray(image).save(tmp_path / "noise.png")
  flipped = []
  for patch in _patches(tmp_path / "noise.png", seed=0, patch_size=16, count=12):
    assert np.array_equal(patch, image) or np.array_equal(patch, image[:, ::-1])
    flipped.append(np.array_equal(patch, image[:, ::-1]))
  assert any(flipped) and not all(flipped)


def test_center_patch_crops_the_middle_and_enlarges_small_images():
  image = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
  np.testing.assert_array_equal(center_patch(tf.constant(image), 4).numpy(), image[3:7, 4:8])
  assert center_patch(tf.zeros([10, 20, 3], tf.uint8), 32).shape == (32, 32, 3)


def test_eval_pipeline_is_deterministic_and_keeps_the_last_batch(tree):
  source = ImageFolderSource.scan(tree, "train")
  def run() -> list[tuple[np.ndarray, np.ndarray]]:
    batches = patch_pipeline(
        source.paths, source.labels, patch_size=32, batch_size=2, training=False
    )
    return list(batches.as_numpy_iterator())

  first, second = run(), run()
  assert [labels.tolist() for _, labels in first] == [[0, 0], [1, 2], [2]]
  for (a, _), (b, _) in zip(first, second):
    np.testing.assert_array_equal(a, b)


# --- Dataset specs -------------------------------------------------------------------


def test_folder_spec_yields_uint8_images_and_int64_labels(tree):
  dataset, info = classification_dataset(f"folder:{tree}", "train")
  assert (info.num_classes, info.num_examples) == (4, 5)
  elements = list(dataset.as_numpy_iterator())
  assert [label for _, label in elements] == [0, 0, 1, 2, 2]
  assert all(image.dtype == np.uint8 and image.shape[2] == 3 for image, _ in elements)
  batches = classification_pipeline(
      dataset, patch_size=16, batch_size=5, shuffle_buffer=5, seed=0
  )
  patches, labels = next(batches.as_numpy_iterator())
  assert patches.shape == (5, 16, 16, 3) and sorted(labels.tolist()) == [0, 0, 1, 2, 2]


def _tar(path: Path, members: dict[str, bytes]) -> None:
  with tarfile.open(path, "w") as archive:
    for name, data in members.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      archive.addfile(info, io.BytesIO(data))


def _jpeg(height: int, width: int) -> bytes:
  buffer = io.BytesIO()
  Image.new("RGB", (width, height), (10, 20, 30)).save(buffer, format="JPEG")
  return buffer.getvalue()


def test_imagenet2012_spec_reads_the_ilsvrc_tars(tmp_path):
  # A miniature ILSVRC-2012: the train tar holds one tar per class, the val tar bare
  # images whose labels tfds takes from its own list, in file name order.
  manual = tmp_path / "manual"
  manual.mkdir()
  per_class = {}
  for wnid in ("n01440764", "n02102040"):
    _tar(tmp_path / f"{wnid}.tar", {f"{wnid}_1.JPEG": _jpeg(30, 40)})
    per_class[f"{wnid}.tar"] = (tmp_path / f"{wnid}.tar").read_bytes()
  _tar(manual / "ILSVRC2012_img_train.tar", per_class)
  _tar(manual / "ILSVRC2012_img_val.tar",
       {f"ILSVRC2012_val_0000000{i}.JPEG": _jpeg(20, 25) for i in (1, 2)})

  val, info = classification_dataset(
      "imagenet2012", "val", data_dir=tmp_path / "tfds", manual_dir=manual
  )
  assert (info.num_classes, info.num_examples) == (1000, 2)
  images = [image for image, _ in val.as_numpy_iterator()]
  assert all(image.shape == (20, 25, 3) and image.dtype == np.uint8 for image in images)
  # Prepared now: the train split needs no manual dir any more.
  train, info = classification_dataset("imagenet2012", "train", data_dir=tmp_path / "tfds")
  labels = sorted(int(label) for _, label in train.as_numpy_iterator())
  assert labels == [info.class_names.index("n01440764"), info.class_names.index("n02102040")]
  assert info.display_names[labels[0]] == "tench"


@needs_imagenette
def test_real_imagenette_folder_layout():
  train = ImageFolderSource.scan(IMAGENETTE_DIR, "train")
  assert train.num_classes == 10 and len(train) == 9469
  assert train.display_names[0] == "tench" and train.class_names[0] == "n01440764"
  assert len(ImageFolderSource.scan(IMAGENETTE_DIR, "val")) == 3925


@pytest.mark.parametrize(
    "spec, options, message",
    [
        ("imagenet", {}, r"unknown dataset 'imagenet'; use one of: folder:PATH"),
        ("folder:/no/such/folder", {}, r"image folder not found: /no/such/folder"),
        ("folder:", {}, r"folder: needs a path"),
        ("imagenet2012", {}, r"--manual-dir DIR holding ILSVRC2012_img_train\.tar"),
        ("imagenet2012", {"manual_dir": "."}, r"manual dir \. lacks ILSVRC2012_img_train\.tar"),
    ],
)
def test_bad_specs_are_user_errors(tmp_path, spec, options, message):
  with pytest.raises(UserError, match=message):
    classification_dataset(spec, "train", data_dir=tmp_path, **options)


def test_imagenette_offline_fails_within_seconds(tmp_path, offline):
  start = time.monotonic()
  host = urllib.parse.urlsplit(classification.IMAGENETTE_URL).hostname
  with pytest.raises(UserError, match=rf"cannot reach {re.escape(host)} .*--dataset folder:PATH"):
    classification_dataset("imagenette", "train", data_dir=tmp_path)
  assert time.monotonic() - start < 10


def test_reachability_probe_is_bounded_and_can_succeed():
  # 192.0.2.0/24 is reserved for documentation: packets there are dropped or refused.
  start = time.monotonic()
  assert not network.reachable("http://192.0.2.1:9/", timeout_s=1.0)
  assert time.monotonic() - start < 2
  with socket.create_server(("127.0.0.1", 0)) as server:
    assert network.reachable(f"http://127.0.0.1:{server.getsockname()[1]}/")


def _windows(image: np.ndarray, size: int) -> np.ndarray:
  """Every size x size window of an image and its mirror image: (N, size, size, 3)."""
  windows = np.lib.stride_tricks.sliding_window_view(image, (size, size, 3)).reshape(
      -1, size, size, 3)
  return np.concatenate([windows, windows[:, :, ::-1]])


def test_patches_of_encoded_files_are_windows_of_the_decoded_images(tmp_path):
  photo = smooth_image(100, 120)
  Image.fromarray(photo).save(tmp_path / "big.jpg", quality=95)
  Image.fromarray(photo[:20, :20]).save(tmp_path / "small.jpg", quality=95)
  Image.fromarray(photo[:50, :60]).save(tmp_path / "lossless.png")
  paths = [str(tmp_path / name) for name in ("big.jpg", "small.jpg", "lossless.png")]

  def patches(seed: int) -> list:
    batches = classification_pipeline(decode_files(paths, decode=False), patch_size=32,
                                      batch_size=1, seed=seed, dtype=tf.uint8)
    return [batch[0] for batch in batches.as_numpy_iterator()]

  first = patches(seed=4)
  assert [patch.shape for patch in first] == [(32, 32, 3)] * 3
  for patch, path in zip(first, paths):
    if "small" in path:
      continue  # enlarged to cover the patch, so no window of the file's pixels
    decoded = next(decode_files([path]).as_numpy_iterator())
    difference = np.abs(_windows(decoded, 32).astype(int) - patch)
    best = difference.mean(axis=(1, 2, 3)).argmin()
    # A JPEG's window decoded alone differs from the whole decode only where chroma
    # upsampling meets the window's edge: a few levels on a few pixels.
    if path.endswith(".png"):
      assert difference[best].max() == 0
    else:
      assert difference[best].mean() < 0.2 and difference[best].max() <= 8
  for patch, again in zip(first, patches(seed=4)):
    np.testing.assert_array_equal(patch, again)
  assert any(not np.array_equal(a, b) for a, b in zip(first, patches(seed=5)))
