"""Packaged dashboard assets (HTML, JS, CSS): no external CDN, the machine may have no internet."""
