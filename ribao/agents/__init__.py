"""The four LLM agents, one node function each: screener, critic, writer, editor."""
