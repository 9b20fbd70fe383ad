"""HTTP: one module per route family (handlers and ``routes()``) and their request
helpers. Imports the layers below."""
