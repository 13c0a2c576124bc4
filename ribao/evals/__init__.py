"""`ribao eval`: experiments, references and the metrics that compare picks and summaries."""
