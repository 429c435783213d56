"""The Flask side: request context, JSON API and admin pages."""
