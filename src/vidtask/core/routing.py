"""Model routing: the model name a client asks for, to the local model that serves it.

Clients with hard-coded model names (``sora-2``, ``doubao-seedance-1-0-pro-250528``) work
unchanged against vidtask: an alias maps such a name, exactly or by a shell-style pattern
(``doubao-seedance-*``), to a local model. A local model's own name always resolves to itself;
exact aliases win over patterns, and patterns are tried in the order they are configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from vidtask.core import errors

__all__ = ["DEFAULT_ALIASES", "ModelRouter"]

#: Names that OpenAI's and Volcengine Ark's SDKs and docs hard-code, served by ``slides``.
DEFAULT_ALIASES: dict[str, str] = {
    "sora-2": "slides",
    "sora-2-pro": "slides",
    "sora-2-*": "slides",
    "doubao-seedance-*": "slides",
    "doubao-seaweed-*": "slides",
}

_PATTERN_CHARS = frozenset("*?[")


class ModelRouter:
    """Resolves requested model names; `resolve` raises a clear `InvalidRequest` that lists
    what is available."""

    def __init__(self, models: Iterable[str], aliases: Mapping[str, str]) -> None:
        self.models = tuple(sorted(models))
        self.aliases = dict(aliases)
        self._exact = {k: v for k, v in self.aliases.items() if not _PATTERN_CHARS & set(k)}
        self._patterns = [(k, v) for k, v in self.aliases.items() if _PATTERN_CHARS & set(k)]

    def resolve(self, requested: str, *, param: str = "model") -> str:
        """The local model serving ``requested``."""
        name = requested.strip()
        if name in self.models:
            return name
        target = self._exact.get(name)
        if target is None:
            target = next((v for k, v in self._patterns if fnmatchcase(name, k)), None)
        if target is None:
            raise errors.InvalidRequest(
                f"{param}: unknown model {requested!r}; {self.describe()}", param=param
            )
        if target not in self.models:
            raise errors.InvalidRequest(
                f"{param}: {requested!r} is an alias of {target!r}, which this server does not "
                f"serve; {self.describe()}",
                param=param,
            )
        return target

    def served_aliases(self) -> dict[str, str]:
        """Aliases whose target this server serves."""
        return {k: v for k, v in self.aliases.items() if v in self.models}

    def describe(self) -> str:
        """``available models: slides, timeline (aliases: sora-2 -> slides, …)``."""
        text = "available models: " + (", ".join(self.models) or "none")
        served = self.served_aliases()
        if served:
            text += " (aliases: " + ", ".join(f"{k} -> {v}" for k, v in served.items()) + ")"
        return text
