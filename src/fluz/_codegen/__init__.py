"""Developer tools for the generated GraphQL package (not shipped in the wheel).

* ``python -m fluz._codegen.generate`` -- regenerate ``generated/fluz_graphql`` (``make codegen``);
  ``--check`` fails when it is stale (``make drift``).
* ``python -m fluz._codegen.fetch_schema`` -- introspect a live server into
  ``schema/fluz.graphql`` and report breaking changes (``make schema``).
* ``fluz._codegen.plugin.FluzCodegenPlugin`` -- the ariadne-codegen plugin both rely on.
"""
