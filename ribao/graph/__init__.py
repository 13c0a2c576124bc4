"""The LangGraph state machine: the builder, pure routers, non-agent nodes, checkpoints, replay forks."""
