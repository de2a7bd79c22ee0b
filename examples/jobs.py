"""Flask-APScheduler's quick start, moved to tickwork by changing one import.

Run it with ``python examples/jobs.py``; the REST API answers on
http://127.0.0.1:5000/scheduler (try ``/scheduler/jobs`` and ``/scheduler/openapi.json``).
Jobs and their run history live in ``tickwork.sqlite`` in the working directory, so they
survive a restart; several copies of this app on one database never fire a job twice.
"""

from flask import Flask

from tickwork.flask import APScheduler  # was: from flask_apscheduler import APScheduler


class Config:
    """App configuration."""

    JOBS = [
        {
            "id": "job1",
            "func": "jobs:job1",
            "args": (1, 2),
            "trigger": "interval",
            "seconds": 10,
        }
    ]

    SCHEDULER_API_ENABLED = True


def job1(var_one, var_two):
    print(str(var_one) + " " + str(var_two), flush=True)


if __name__ == "__main__":
    app = Flask(__name__)
    app.config.from_object(Config())

    scheduler = APScheduler()
    scheduler.init_app(app)
    scheduler.start()

    app.run()
