"""The scenarios shipped with suandian: where the embedded default day and year are.

An installed wheel carries ``models/`` and ``data/`` inside the package
(``suandian/_embedded/``, the ``force-include`` of ``pyproject.toml``); a source checkout
(editable install, ``PYTHONPATH=src``) reads them from the repository. Either way
:func:`default_scenario` gives a path that :func:`suandian.load_scenario` reads, whatever the
current directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: file names of the embedded scenarios in ``models/``
DEFAULT_NAME = "chongqing_hami_day.yaml"
DEFAULT_YEAR = "chongqing_hami_year.yaml"
_NAMES = {"day": DEFAULT_NAME, "year": DEFAULT_YEAR}


def default_scenario(which: str = "day") -> Path:
    """Path of an embedded scenario: the Chongqing–Hami summer ``day`` or its ``year``.

    Parameters
    ----------
    which : {"day", "year"}
        ``day``: the default day-ahead plan (96 x 15 min, what ``suandian solve`` plans);
        ``year``: the 8,760-h year that ``suandian rolling`` plans.

    Returns
    -------
    pathlib.Path
        The YAML file, in the installed package or, from a source checkout, in its
        ``models/`` folder; its series are read from the ``data/`` folder beside it.

    Examples
    --------
    >>> import suandian
    >>> sc = suandian.load_scenario(suandian.default_scenario())
    """
    if which not in _NAMES:
        raise ValueError(f"default_scenario: which={which!r}; use one of {sorted(_NAMES)}")
    name = _NAMES[which]
    embedded = resources.files("suandian") / "_embedded" / "models" / name
    if embedded.is_file():
        return Path(str(embedded))
    return Path(__file__).resolve().parents[2] / "models" / name
