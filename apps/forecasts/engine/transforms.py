"""Variance-stabilising transforms: Box-Cox (log at lambda 0), chosen by Guerrero's method.

Sales often swing more when they are higher; models with constant-variance errors then
under-cover the peaks and over-cover the troughs. Guerrero (1993) picks the lambda that makes
the coefficient of variation of (sd / mean^(1-lambda)) across seasons smallest, as R's
forecast::BoxCox.lambda does. We use a transform only when that lambda says variance clearly
grows with the level, snap near-zero to the log, and never transform series with zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

NONE = "none"
LOG = "log"
BOXCOX = "boxcox"
AUTO = "auto"
CHOICES = (AUTO, NONE, LOG, BOXCOX)


@dataclass(frozen=True)
class Transform:
    """A Box-Cox transform; `lam` None means identity, 0 means log."""

    lam: float | None = None

    @property
    def name(self) -> str:
        if self.lam is None:
            return NONE
        return LOG if self.lam == 0 else f"{BOXCOX}({self.lam:g})"

    def forward(self, values: np.ndarray) -> np.ndarray:
        if self.lam is None:
            return values.astype(float)
        if np.any(values <= 0):
            raise ValueError(f"the {self.name} transform needs positive values")
        if self.lam == 0:
            return np.log(values)
        return (np.power(values, self.lam) - 1) / self.lam

    def inverse(self, values: np.ndarray) -> np.ndarray:
        if self.lam is None:
            return values
        if self.lam == 0:
            return np.exp(np.clip(values, -700, 700))
        # Below -1/lambda the inverse is undefined: such forecasts mean "about zero".
        base = np.maximum(self.lam * values + 1, 1e-12)
        return np.power(base, 1 / self.lam)


def guerrero_lambda(values: np.ndarray, season: int) -> float:
    """Guerrero's lambda in [0, 1] over blocks of one season (at least 2 periods)."""
    period = max(2, season)
    blocks = len(values) // period
    if blocks < 2:
        return 1.0
    tail = values[len(values) - blocks * period :].reshape(blocks, period)
    means = tail.mean(axis=1)
    sds = tail.std(axis=1, ddof=1)

    def variation(lam: float) -> float:
        ratio = sds / np.power(means, 1 - lam)
        return float(np.std(ratio, ddof=1) / np.mean(ratio))

    result = minimize_scalar(variation, bounds=(0.0, 1.0), method="bounded")
    return float(result.x)


def transform_choose(values: np.ndarray, season: int, choice: str = AUTO) -> Transform:
    """The transform to model `values` on: `choice` auto decides by Guerrero's lambda."""
    if choice == NONE:
        return Transform()
    positive = bool(np.all(values > 0))
    if choice == LOG:
        if not positive:
            raise ValueError("the log transform needs positive values")
        return Transform(0.0)
    if not positive or len(values) < 2 * max(2, season):
        if choice == BOXCOX:
            raise ValueError("the Box-Cox transform needs positive values and two seasons")
        return Transform()
    lam = guerrero_lambda(values, season)
    if choice == AUTO and lam > 0.66:
        return Transform()
    if lam < 0.25:
        return Transform(0.0)
    return Transform(round(lam, 1))
