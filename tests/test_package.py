"""The package's public names load lazily: the model, the configuration and the web app's
views import no Numba (issue #17), and every public name is still there."""

from __future__ import annotations

import subprocess
import sys

import twicetold


def test_model_config_and_web_load_no_numba() -> None:
    code = ("import sys, twicetold, twicetold.model, twicetold.config, twicetold.errors, twicetold.web; "
            "print(sorted(m for m in ('numba', 'twicetold._kernels') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    for name in twicetold.__all__:
        assert getattr(twicetold, name) is not None, name
    assert set(twicetold.__all__) <= set(dir(twicetold))
    # The function, not the submodule of the same name (importing that binds it on the package).
    import twicetold.align as _  # noqa: F401

    assert callable(twicetold.align) and twicetold.align.__module__ == "twicetold.align"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        twicetold.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("twicetold.no_such_thing resolved")
