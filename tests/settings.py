"""The settings the end-to-end stacks run with, which the tests' expectations follow from."""

#: TASK_TIMEOUT of the api that waits for every job the tests send it.
PATIENT_TIMEOUT = 10
#: TASK_TIMEOUT of the api that answers `pending` for jobs longer than this (the seed's 30 s, shortened).
IMPATIENT_TIMEOUT = 3
MAX_DELAY = 60
#: The main worker's time limit: above every delay the tests send it.
WORKER_TIME_LIMIT = 15
