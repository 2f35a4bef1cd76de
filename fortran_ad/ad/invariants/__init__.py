"""Checks run on every generated routine before output: types, intents, tape specifics,
calls of emitted routines, access to private components. Each fails generation with a located
internal error instead of writing wrong code."""
