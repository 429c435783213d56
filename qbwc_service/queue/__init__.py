"""The job queue: its verbs (the only writer of job state), retry policy, job-kind registry."""
