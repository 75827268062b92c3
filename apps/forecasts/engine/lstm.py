"""A small LSTM forecaster (torch): one network per series, direct multi-step output.

It learns the series' standardised period-to-period changes (an LSTM cannot extrapolate a
level it never saw, so a trending series is modelled through its differences) from sliding
windows of two seasons, and outputs all `horizon` steps at once. Intervals are normal with the
spread of its own in-sample multi-step errors per step, widened by the number of windows;
the backtest reports how well they actually cover. Runs on CUDA when the caller passes it.
"""

from __future__ import annotations

import numpy as np

from apps.forecasts.engine.models import ModelError, Prediction, normal_bounds

HIDDEN = 32
EPOCHS = 150
LEARNING_RATE = 0.01


def _windows(z: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    count = len(z) - window - horizon + 1
    inputs = np.stack([z[i : i + window] for i in range(count)])
    targets = np.stack([z[i + window : i + window + horizon] for i in range(count)])
    return inputs, targets


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

    changes = np.diff(y)
    window = max(2 * season, 8) if season > 1 else 8
    window = min(window, max(4, len(changes) - horizon - 8))
    if len(changes) - window - horizon + 1 < 8:
        raise ModelError(f"lstm needs at least {window + horizon + 9} periods for this horizon")
    centre = float(changes.mean())
    scale = float(changes.std()) or 1.0
    z = (changes - centre) / scale
    inputs, targets = _windows(z, window, horizon)

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(1, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, horizon)

        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            output, _ = self.lstm(batch.unsqueeze(-1))
            return self.head(output[:, -1])

    network = Network().to(device)
    x = torch.tensor(inputs, dtype=torch.float32, device=device)
    t = torch.tensor(targets, dtype=torch.float32, device=device)
    optimiser = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    batch = min(64, len(x))
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
        ahead = network(torch.tensor(z[-window:], dtype=torch.float32, device=device)[None])
        ahead = ahead.cpu().numpy()[0]
    # Levels are the last value plus the cumulated predicted changes; errors likewise.
    path = np.cumsum(ahead * scale + centre)
    mean = y[-1] + path
    errors = np.cumsum((targets - fitted) * scale, axis=1)
    inflation = np.sqrt(len(errors) / max(1, len(errors) - 1))
    sd = errors.std(axis=0) * inflation
    lower, upper = normal_bounds(mean, sd)
    return Prediction(
        mean,
        lower,
        upper,
        f"LSTM ({HIDDEN} units, window {window})",
        {"window": float(window), "train_loss": float(loss.item())},
    )
