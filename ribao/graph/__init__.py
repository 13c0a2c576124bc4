"""The LangGraph state machine: state, pure routers, wiring, and the runner with its trace."""
