"""Run a Python script as ``__main__`` in a conformance mode (see :mod:`conformance_hooks`).

    python run_script.py SCRIPT [ARGUMENT ...]

Used for Django's ``tests/runtests.py``: the mode is applied, and unittest's outcomes observed,
before the script imports Django's test modules. The script sees the ``sys.argv`` and
``sys.path[0]`` that ``python SCRIPT ARGUMENT ...`` would give it.
"""

from __future__ import annotations

import os
import runpy
import sys

import conformance_hooks as hooks


def main() -> None:
    script = os.path.abspath(sys.argv[1])
    sys.argv = [script, *sys.argv[2:]]
    sys.path[0] = os.path.dirname(script)
    hooks.observe_unittest_results()
    hooks.prepare(configure_django=False)
    if hooks.mode() == "record":
        hooks.record_each_test()
    import django

    # Which Django ran the tests: the harness checks it is the installed one, not a copy next to
    # the upstream tests.
    hooks.write({"kind": "django", "version": django.__version__, "path": django.__file__})
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
