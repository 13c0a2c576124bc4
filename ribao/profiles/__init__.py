"""Reader profiles: who a digest is for — interests, seed papers, a library, feedback."""
