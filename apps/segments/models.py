"""Models of the segments app arrive with its capability issue; the app is wired already."""
