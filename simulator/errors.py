"""The exception hierarchy: every error sessionlab raises on purpose derives from SessionlabError."""

from __future__ import annotations

__all__ = ["PluginError", "RuleError", "ScenarioError", "SessionlabError"]


class SessionlabError(Exception):
    """An error caused by the user's input, printed as one line by the CLI (exit code 2)."""


class ScenarioError(SessionlabError):
    """A scenario file (or another input file) is invalid.

    Parameters
    ----------
    path
        The file, as the user named it.
    key_path
        Where in the file, e.g. ``journey[2].steps[3].after`` (indices count from 1). Empty for
        errors about the whole file (unreadable, not TOML).
    message
        What was expected and what was found.
    hint
        An optional fix ("did you mean 'after'?").
    """

    def __init__(self, path: str, key_path: str, message: str, hint: str = "") -> None:
        self.path = path
        self.key_path = key_path
        self.message = message
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.path}: {self.key_path}: " if self.key_path else f"{self.path}: "
        tail = f"; {self.hint}" if self.hint else ""
        return f"{where}{self.message}{tail}"


class RuleError(SessionlabError):
    """A session rule or definition is misconfigured (unknown name, bad parameter)."""


class PluginError(SessionlabError):
    """A third-party plugin (entry point) does not meet its contract."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        self.message = message
        super().__init__(f"plugin {plugin!r}: {message}")
