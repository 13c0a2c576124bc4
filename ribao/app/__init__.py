"""The use cases: one function each, over a `Services` bundle built once by `compose` (services.py).

- write a day: `write.run_day` (compose, then `write.write_day`)
- resume a run: `write.resume` (compose, then `write.resume_run`)
- replay one agent of a recorded run: `replay.replay_run`
- re-send a written digest: `resend.resend`
- build the archive site: `site.build_archive`
- read a listing: `services.read_day`

Each module is imported by the command that needs it, so a command loads only its own stack.
"""
