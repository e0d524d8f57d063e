"""Settings read from the environment first, then .streamlit/secrets.toml."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///data/huddle.db"
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_MAX_MESSAGE_CHARS = 32_000

_TRUE = {"1", "true", "yes", "on"}


def _read_secrets(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    anthropic_api_key: str | None = None
    anthropic_model: str = DEFAULT_MODEL
    anthropic_base_url: str | None = None
    cookie_key: str | None = None
    allow_registration: bool = False
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS

    @property
    def offline(self) -> bool:
        """True when no Claude key is configured and the offline model answers."""
        return not self.anthropic_api_key


def load_settings(
    environ: dict[str, str] | None = None, secrets_path: Path | None = None
) -> Settings:
    """Build Settings: environment variables win over secrets.toml, which wins over defaults."""
    env = os.environ if environ is None else environ
    secrets = _read_secrets(secrets_path or PROJECT_ROOT / ".streamlit" / "secrets.toml")

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None and name in secrets:
            value = str(secrets[name])
        return value or None

    max_chars = get("MAX_MESSAGE_CHARS")
    return Settings(
        database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        anthropic_api_key=get("ANTHROPIC_API_KEY"),
        anthropic_model=get("ANTHROPIC_MODEL") or DEFAULT_MODEL,
        anthropic_base_url=get("ANTHROPIC_BASE_URL"),
        cookie_key=get("HUDDLE_COOKIE_KEY"),
        allow_registration=(get("HUDDLE_ALLOW_REGISTRATION") or "").lower() in _TRUE,
        max_message_chars=int(max_chars) if max_chars else DEFAULT_MAX_MESSAGE_CHARS,
    )
