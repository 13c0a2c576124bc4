"""The one provider-aware package: chat models, the local llama.cpp server, usage and cost."""
