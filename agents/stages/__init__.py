"""The stage agents: one module per agent, each moving records between topics and calling
``pipeline`` for every decision."""
