"""Models of the recommendations app arrive with its capability issue; the app is wired already."""
