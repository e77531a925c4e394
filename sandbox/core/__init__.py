"""The request pipeline: operations, provider base, middleware, validation, errors, accounts, fixture files."""
