"""Pure forecasting engines of the forecasts app: no Django (house rule 2)."""
