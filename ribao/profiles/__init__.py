"""Reader profiles: who a digest is for and what each candidate means to that reader."""
