"""fluz: async, fully typed client for the Fluz GraphQL API."""
