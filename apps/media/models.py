"""Models of the media app arrive with its capability issue; the app is wired already."""
