"""The price table of core/prices.toml: what a model's tokens cost, or that they are unpriced."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.errors import ValidationError

PRICES_FILE = Path(__file__).with_name("prices.toml")
PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class Price:
    """US dollars per million input and per million output tokens."""

    input: float
    output: float


@dataclass(frozen=True)
class ModelUsage:
    """Tokens one model used (model None: messages that name no model)."""

    model: str | None
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Cost:
    """Estimated USD for the priced models; tokens of the others counted apart, never priced."""

    usd: float
    unpriced_tokens: int
    unpriced_models: tuple[str, ...]


def read_prices(path: Path = PRICES_FILE) -> dict[str, Price]:
    """The table in that file; a malformed one is a ValidationError naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(f"The price table {path} cannot be read: {exc}.") from exc
    prices: dict[str, Price] = {}
    for model, entry in data.get("models", {}).items():
        try:
            price = Price(input=float(entry["input"]), output=float(entry["output"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"The price of {model!r} in {path} needs numbers `input` and `output`."
            ) from exc
        if price.input < 0 or price.output < 0:
            raise ValidationError(f"The price of {model!r} in {path} cannot be negative.")
        prices[model] = price
    return prices


@cache
def default_prices() -> Mapping[str, Price]:
    return read_prices()


def estimate_cost(usage: Iterable[ModelUsage], prices: Mapping[str, Price] | None = None) -> Cost:
    """Price each model's tokens by the table; models missing from it stay unpriced."""
    table = default_prices() if prices is None else prices
    usd = 0.0
    unpriced = 0
    unpriced_models: set[str] = set()
    for row in usage:
        price = table.get(row.model) if row.model is not None else None
        if price is None:
            tokens = row.input_tokens + row.output_tokens
            if tokens:
                unpriced += tokens
                unpriced_models.add(row.model or "(no model)")
            continue
        usd += (row.input_tokens * price.input + row.output_tokens * price.output) / PER_TOKENS
    return Cost(usd=usd, unpriced_tokens=unpriced, unpriced_models=tuple(sorted(unpriced_models)))
