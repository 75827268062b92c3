"""Models of the campaigns app arrive with its capability issue; the app is wired already."""
