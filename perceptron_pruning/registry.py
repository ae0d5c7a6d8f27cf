"""Registries of learners and pruning metrics: plug-ins are found by name.

A plug-in is a small frozen dataclass registered under a name with :func:`register_learner` or
:func:`register_metric`. Everything that takes a learner or a metric (``simulate``, the sweeps,
``theory``, ``frontier``, the CLI and the figures) accepts either that name or an instance, and
resolves it with :func:`get_learner` / :func:`get_metric`. The plug-ins shipped with the package
live one per module in :mod:`perceptron_pruning.learners` and :mod:`perceptron_pruning.metrics`,
which import every module they contain, so adding one means adding one module.
"""

from __future__ import annotations

import dataclasses

__all__ = ["LEARNERS", "METRICS", "Plugin", "Registry", "get_learner", "get_metric",
           "learner_names", "metric_names", "register_learner", "register_metric"]


class Plugin:
    """What learners and metrics share: a name, hyper-parameters as dataclass fields, a spec."""

    name = ""

    def spec(self) -> dict:
        """The plug-in's name and hyper-parameters (what identifies it in caches)."""
        return {"name": self.name, **self.options()}

    def options(self) -> dict:
        """The hyper-parameters alone (they become JSON keys and CSV columns of results)."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        params = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                  if getattr(self, f.name) != f.default]
        return self.name + (f"({', '.join(params)})" if params else "")


class Registry:
    """Name -> plug-in class, for one kind of plug-in (``"learner"`` or ``"metric"``)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, type] = {}

    def register(self, name: str):
        """Class decorator: register ``cls`` under ``name`` and set ``cls.name``."""
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f"{self.kind} name must be a non-empty string without spaces, "
                             f"got {name!r}")

        def deco(cls):
            if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:
                raise TypeError(f"a {self.kind} plug-in must be a frozen dataclass: {cls!r}")
            old = self._classes.get(name)
            if old is not None and old.__qualname__ != cls.__qualname__:
                raise ValueError(f"{self.kind} name {name!r} is taken by {old.__qualname__}")
            cls.name = name
            self._classes[name] = cls
            return cls

        return deco

    def names(self) -> tuple[str, ...]:
        """Registered names, sorted."""
        _load_builtins()
        return tuple(sorted(self._classes))

    def get(self, spec, **options):
        """Resolve ``spec`` (a registered name or an instance) to a plug-in instance.

        Parameters
        ----------
        spec : str or plug-in instance
            A name from :meth:`names`, or an instance of a registered class (returned as is).
        **options
            Hyper-parameters passed to the class when ``spec`` is a name.

        Returns
        -------
        plug-in instance

        Raises
        ------
        ValueError
            Unknown name, or options the plug-in does not take.
        """
        _load_builtins()
        if isinstance(spec, str):
            cls = self._classes.get(spec)
            if cls is None:
                raise ValueError(f"{self.kind} must be one of {', '.join(self.names())}; "
                                 f"got {spec!r}")
            fields = {f.name for f in dataclasses.fields(cls)}
            extra = sorted(set(options) - fields)
            if extra:
                takes = ", ".join(sorted(fields)) or "no options"
                raise ValueError(f"{self.kind} {spec!r} does not take {', '.join(extra)} "
                                 f"(it takes {takes})")
            return cls(**options)
        if type(spec) in self._classes.values():
            if options:
                return dataclasses.replace(spec, **options)
            return spec
        raise ValueError(f"{self.kind} must be one of {', '.join(self.names())} or an instance "
                         f"of a registered {self.kind} class; got {spec!r}")


LEARNERS = Registry("learner")
METRICS = Registry("metric")
register_learner = LEARNERS.register
register_metric = METRICS.register
get_learner = LEARNERS.get
get_metric = METRICS.get
learner_names = LEARNERS.names
metric_names = METRICS.names

_loaded = False


def _load_builtins():
    # Importing the two packages registers every plug-in module inside them.
    global _loaded
    if not _loaded:
        _loaded = True
        from . import learners, metrics  # noqa: F401
