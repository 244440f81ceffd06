"""The floors: the base knows no model, the model packages know no top layer, and each
family's interface is the one the layers above dispatch through."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from compression_zoo import families
from tests.conftest import REPO_ROOT

BASE = "compression_eval"
MODELS = ("deepsic_tf", "r2i_tf")
TOP = "compression_zoo"
# A string that is a module path (`deepsic_tf.train`, `r2i_tf.codec:export`): what
# importlib, `__import__` or a "module:function" table would load.
_MODULE_PATH = re.compile(r"^(\w+)(\.\w+)*(:\w+)?$")


def _modules(package: str) -> List[Path]:
  return sorted((REPO_ROOT / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[Tuple[int, str]]:
  """(line, module) of every import in a file, and of every string naming a module."""
  for node in ast.walk(ast.parse(path.read_text(), str(path))):
    if isinstance(node, ast.Import):
      yield from ((node.lineno, alias.name) for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
      yield node.lineno, node.module or ""
    elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
          and _MODULE_PATH.match(node.value)):
      yield node.lineno, node.value.split(":")[0]


def _offending(package: str, forbidden: Tuple[str, ...]) -> List[str]:
  found = []
  for path in _modules(package):
    for line, module in _imports(path):
      if module.split(".")[0] in forbidden:
        found.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {module}")
  return found


def test_the_base_imports_no_model_package_and_no_top_layer():
  assert len(_modules(BASE)) > 20  # the walk sees the package
  assert _offending(BASE, (*MODELS, TOP)) == []


@pytest.mark.parametrize("package", MODELS)
def test_a_model_package_imports_neither_the_other_nor_the_top_layer(package):
  others = tuple(name for name in MODELS if name != package)
  assert _offending(package, (*others, TOP)) == []


def test_the_walk_finds_imports_written_every_way(tmp_path):
  probe = tmp_path / "probe.py"
  probe.write_text("import deepsic_tf.codec\nfrom r2i_tf import train\n"
                   "importlib.import_module('compression_zoo.zoo')\n"
                   "TABLE = {'x': 'deepsic_tf.evaluation:deepsic'}\n"
                   "'''A docstring that names deepsic_tf in prose.'''\n")
  named = {module for _, module in _imports(probe)}
  assert {"deepsic_tf.codec", "r2i_tf", "compression_zoo.zoo", "deepsic_tf.evaluation"} <= named
  assert not any("docstring" in module for module in named)


def test_each_family_names_its_files_as_its_format_does():
  from deepsic_tf import bitstream as deepsic_bitstream  # pylint: disable=import-outside-toplevel
  from r2i_tf import bitstream as r2i_bitstream  # pylint: disable=import-outside-toplevel
  assert families.by_name("deepsic").magic == deepsic_bitstream.MAGIC
  assert families.by_name("r2i").magic == r2i_bitstream.MAGIC
  for family in families.FAMILIES.values():
    assert family.name in family.evaluation_codecs  # the kind its shipped models use
    assert (REPO_ROOT / family.train_script).is_file()
