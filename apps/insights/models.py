"""Models of the insights app arrive with its capability issue; the app is wired already."""
