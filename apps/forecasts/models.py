"""Models of the forecasts app arrive with its capability issue; the app is wired already."""
