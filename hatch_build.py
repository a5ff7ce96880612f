"""Compile the recorder's compiled hot path, ``signal_panel/_hotpath_c.pyx`` (the Cython twin of
``signal_panel/_hotpath.py``), into the extension module ``signal_panel._hotpath_c``.

hatchling runs this as a build hook (``[tool.hatch.build.targets.wheel.hooks.custom]``): a wheel
gets the compiled module beside the source; an editable install (``pip install -e .``) gets it
in the source tree. ``SIGNAL_PANEL_BUILD`` chooses what happens when compiling is not possible:

- unset: build anyway, pure Python (the package then runs the source module, more slowly);
- ``compiled``: fail the build (``make`` installs this way, so the tests run the compiled code);
- ``pure``: do not try.

Run as a script (``python hatch_build.py``) it recompiles in place for the running Python, which is
what ``make`` does when ``_hotpath_c.pyx`` changed. The compiled module carries the SHA-256 of the
source it was built from; ``signal_panel._speed`` ignores it when the source has changed since.
"""

from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SOURCE = Path("signal_panel") / "_hotpath_c.pyx"
MODULE = "signal_panel._hotpath_c"
_MSVC = sys.platform == "win32"


def compiled_name() -> str:
    return "_hotpath_c" + sysconfig.get_config_var("EXT_SUFFIX")


def compile_hotpath(root: Path, out_dir: Path) -> Path:
    """Compile ``root/signal_panel/_hotpath_c.pyx``; return the path of the module, placed at
    ``out_dir/signal_panel/``."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    source = (root / SOURCE).read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "signal_panel" / "_hotpath_c.pyx"
        copy.parent.mkdir()
        copy.write_bytes(source + f"\nSOURCE_SHA256 = {digest!r}\n".encode())
        extensions = cythonize(
            # No debug information: it would make the module ten times as large.
            [Extension(MODULE, [str(copy)], extra_compile_args=[] if _MSVC else ["-g0"])],
            build_dir=str(Path(tmp) / "c"),
            quiet=True,
        )
        distribution = Distribution({"ext_modules": extensions, "script_name": "hatch_build.py"})
        command: Any = distribution.get_command_obj("build_ext")
        command.build_lib = str(out_dir)
        command.build_temp = str(Path(tmp) / "build")
        distribution.run_command("build_ext")
    target = out_dir / "signal_panel" / compiled_name()
    if not target.exists():
        raise RuntimeError(f"the compiler left no {target}")
    return target


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, outside a build
    pass
else:

    class HotPathBuildHook(BuildHookInterface):  # type: ignore[type-arg]
        PLUGIN_NAME = "custom"

        def initialize(self, version: str, build_data: dict[str, Any]) -> None:
            mode = os.environ.get("SIGNAL_PANEL_BUILD", "")
            if self.target_name != "wheel" or mode == "pure":
                return
            root = Path(self.root)
            editable = version == "editable"
            out_dir = root if editable else root / "build" / "hotpath"
            try:
                target = compile_hotpath(root, out_dir)
            except Exception as error:
                if mode == "compiled":
                    raise
                self.app.display_warning(
                    f"django-signal-panel: the hot path was not compiled ({error}); "
                    "the package will run its pure-Python version."
                )
                return
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
            if not editable:
                build_data["force_include"][str(target)] = f"signal_panel/{target.name}"


if __name__ == "__main__":
    print(compile_hotpath(ROOT, ROOT), file=sys.stderr)
