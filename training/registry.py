"""Method name -> ``Method`` instance (design decision 3: a registry maps names to model, loss,
sampler and default config).

Each entry is ``(module, class name)``; a module that is not there (not written yet) is left out,
any other import error is raised. To add a method, add one line to ``_ENTRIES``.
"""

from __future__ import annotations

import importlib

from vidsift.errors import BadInputError
from vidsift.training.methods.base import Method

_ENTRIES: tuple[tuple[str, str], ...] = (
    ("vidsift.training.methods.slow_ae", "SlowAEMethod"),
    ("vidsift.training.methods.siamese", "SiameseMethod"),
    ("vidsift.training.methods.siamese", "SiameseMUMethod"),
    ("vidsift.training.methods.quadruplet", "QuadrupletMethod"),
    ("vidsift.training.methods.quadruplet", "QuadrupletMUMethod"),
    ("vidsift.training.methods.drlim", "DrLIMMethod"),
    ("vidsift.training.methods.triplet", "TripletMethod"),
    ("vidsift.training.methods.c3d_siamese", "C3DSiameseMethod"),
    ("vidsift.training.methods.ul", "ULMethod"),
    ("vidsift.training.methods.infonce", "InfoNCEMethod"),
)


def _load() -> dict[str, Method]:
    methods: dict[str, Method] = {}
    for module_name, class_name in _ENTRIES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        method = getattr(module, class_name)()
        if method.NAME in methods:
            raise RuntimeError(f"two methods named {method.NAME!r}")
        methods[method.NAME] = method
    return methods


METHODS: dict[str, Method] = _load()


def get_method(name: str) -> Method:
    """The registered method ``name``; ``BadInputError`` listing the known names otherwise."""
    try:
        return METHODS[name]
    except KeyError:
        raise BadInputError(
            f"unknown method {name!r}; known methods: {', '.join(sorted(METHODS))}"
        ) from None


def method_names() -> list[str]:
    return list(METHODS)
