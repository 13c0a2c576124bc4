"""Reader profiles: who a digest is for — interests, seed papers, a library, feedback — and what each
candidate means to that reader."""
