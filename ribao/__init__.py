"""ribao (日报): write the ArXiv AI 日报 for one arXiv announcement day with four LLM agents."""

__version__ = "0.1.0"
