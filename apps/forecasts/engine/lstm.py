"""A small LSTM forecaster (torch): one network per series, direct multi-step output.

It learns the series' standardised period-to-period changes (an LSTM cannot extrapolate a
level it never saw, so a trending series is modelled through its differences) from sliding
windows of two seasons, and outputs all `horizon` steps at once. Intervals are normal with the
spread of its own in-sample multi-step errors per step, widened by the number of windows;
the backtest reports how well they actually cover. Runs on CUDA when the caller passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.forecasts.engine.models import NotEnoughHistory, Prediction, normal_bounds

HIDDEN = 32
EPOCHS = 150
LEARNING_RATE = 0.01


@dataclass(frozen=True)
class _Windows:
    """The standardised changes cut into (input window, next `horizon` changes) pairs."""

    last_level: float
    recent: np.ndarray  # the last window, the input of the forecast
    inputs: np.ndarray
    targets: np.ndarray
    centre: float
    scale: float


def _windows(y: np.ndarray, horizon: int, season: int) -> _Windows:
    changes = np.diff(y)
    window = max(2 * season, 8) if season > 1 else 8
    window = min(window, max(4, len(changes) - horizon - 8))
    count = len(changes) - window - horizon + 1
    if count < 8:
        raise NotEnoughHistory(
            f"lstm needs at least {window + horizon + 9} periods for this horizon"
        )
    centre = float(changes.mean())
    scale = float(changes.std()) or 1.0
    z = (changes - centre) / scale
    inputs = np.stack([z[i : i + window] for i in range(count)])
    targets = np.stack([z[i + window : i + window + horizon] for i in range(count)])
    return _Windows(float(y[-1]), z[-window:], inputs, targets, centre, scale)


def _network(torch: Any, horizon: int) -> Any:
    class Network(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(1, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, horizon)

        def forward(self, batch: Any) -> Any:
            output, _ = self.lstm(batch.unsqueeze(-1))
            return self.head(output[:, -1])

    return Network()


def lstm_forecast(
    y: np.ndarray,
    horizon: int,
    season: int,
    *,
    device: str = "cpu",
    seed: int = 0,
    epochs: int = EPOCHS,
) -> Prediction:
    import torch

    data = _windows(y, horizon, season)
    threads = torch.get_num_threads()
    # A network this small runs fastest on one thread; the processes of a worker pool each
    # spinning every core would slow all of them down.
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        network = _network(torch, horizon).to(device)
        x = torch.tensor(data.inputs, dtype=torch.float32, device=device)
        t = torch.tensor(data.targets, dtype=torch.float32, device=device)
        optimiser = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
        batch = min(64, len(x))
        loss = torch.zeros(())
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator).to(device)
            for start in range(0, len(x), batch):
                rows = order[start : start + batch]
                optimiser.zero_grad()
                loss = torch.nn.functional.mse_loss(network(x[rows]), t[rows])
                loss.backward()
                optimiser.step()
        network.eval()
        with torch.no_grad():
            fitted = network(x).cpu().numpy()
            recent = torch.tensor(data.recent, dtype=torch.float32, device=device)[None]
            ahead = network(recent).cpu().numpy()[0]
    finally:
        torch.set_num_threads(threads)
    # Levels are the last value plus the cumulated predicted changes; errors likewise.
    mean = data.last_level + np.cumsum(ahead * data.scale + data.centre)
    errors = np.cumsum((data.targets - fitted) * data.scale, axis=1)
    inflation = np.sqrt(len(errors) / max(1, len(errors) - 1))
    lower, upper = normal_bounds(mean, errors.std(axis=0) * inflation)
    window = data.inputs.shape[1]
    return Prediction(
        mean,
        lower,
        upper,
        f"LSTM ({HIDDEN} units, window {window})",
        {"window": float(window), "train_loss": float(loss.item())},
    )
