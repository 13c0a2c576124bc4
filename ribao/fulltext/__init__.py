"""Full text of the picked papers: fetch (HTML → PDF → LaTeX e-print), cache, extract, sanitise, budget."""
