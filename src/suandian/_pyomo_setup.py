"""Keep Pyomo from importing ``scipy.stats`` (about 1 s) when only ``scipy.sparse`` is needed.

Pyomo registers an import hook that, on the first import of ``scipy`` by anyone, also imports
``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial``. suandian's solver path needs only
``scipy.sparse`` (inside Pyomo's standard-form compiler). On our 2-core machine the hook cost
1.0-1.2 s of a 4-5 s ``suandian solve`` of the default day. This module, imported first by
``suandian/__init__.py``, removes that hook and gives the compiler the three attributes its
``__init__`` would otherwise fetch through the hook. If Pyomo changes these internals the
lookups below find nothing and suandian works as before, only slower to start.
"""

from __future__ import annotations


def skip_scipy_stats_import() -> None:
    """Remove Pyomo's scipy import hook and prime the standard-form compiler."""
    try:
        from pyomo.common import dependencies
        from pyomo.repn.plugins import standard_form
    except ImportError:  # pragma: no cover - Pyomo missing is reported elsewhere
        return
    callbacks = getattr(
        getattr(dependencies, "DeferredImportCallbackFinder", None), "_callbacks", None
    )
    impl = getattr(standard_form, "_LinearStandardFormCompiler_impl", None)
    primed = getattr(impl, "_to_vector", 0) is not None
    if not isinstance(callbacks, dict) or impl is None or primed:
        return
    import numpy as np

    callbacks.pop("scipy", None)
    import scipy.sparse

    impl._to_vector = np.fromiter
    impl._csc_matrix = scipy.sparse.csc_array
    impl._csr_matrix = scipy.sparse.csr_array


skip_scipy_stats_import()
