"""Names vulture cannot see used: called by a framework, or public API kept for users.

Read by ``vulture`` in scripts/check, never imported. Each line names one attribute; add a
name here only with the reason it is not dead.
"""

# click: the exit status of a ClickException; commands registered by decorators
exit_code
list_nodes
list_jobs
show_job
db_upgrade

# Flask / Werkzeug: response headers set by attribute; Flask-APScheduler's app handle
no_cache
apscheduler

# Alembic: read from each revision module
down_revision
branch_labels
depends_on

# SQLAlchemy: TypeDecorator hooks and settings; engine event listeners (store/sqlite.py)
impl
cache_ok
load_dialect_impl
process_bind_param
process_result_value
_configure
_begin
isolation_level

# pickle.Unpickler's hook (importers/apscheduler_store.py); prometheus_client's collector
find_class
collect

# Public API: APScheduler 3's event constants and attributes, documented constructors,
# the test clock, stored node states
EVENT_SCHEDULER_START
EVENT_EXECUTOR_ADDED
EVENT_EXECUTOR_REMOVED
EVENT_JOBSTORE_ADDED
EVENT_JOBSTORE_REMOVED
scheduled_run_times
from_crontab
advance
DEAD
wait_cancelled

# Public API: Flask-APScheduler's helpers that apps import (flask/utils.py)
job_to_dict
pop_trigger
fix_job_def

# Counts scrypt checks so tests can observe the verified-password cache (server/auth.py)
hash_checks

# APScheduler 3's public API, kept for users' code (tests/integration/test_apscheduler_api.py)
modify
reschedule
scheduled_job
print_jobs
