"""Shared by every layer and importing none of them: API errors, input bounds, hooks,
the fault and capability tables, request fields, imitated delays."""
