"""gunicorn's settings for mfagate: `make serve`, and any host that runs `gunicorn` from the
checkout (gunicorn reads ./gunicorn.conf.py by itself). Command-line options win over these."""

import os

wsgi_app = "config.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Each worker imports Django itself: nothing opened at start-up (connections, threads) is shared
# across a fork.
preload_app = False
accesslog = "-"  # stdout
errorlog = "-"  # stderr, with Django's own errors (config/settings.py LOGGING)
timeout = 30
graceful_timeout = 20
worker_tmp_dir = "/dev/shm"  # the workers' heartbeat files, off the disk
# X-Forwarded-Proto and friends are trusted from FORWARDED_ALLOW_IPS (gunicorn reads that variable;
# default 127.0.0.1,::1) — a TLS proxy on another host must be listed there.
# gunicorn ≥ 25.1 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# instances on a host would take it from each other, and nothing here uses it.
control_socket_disable = True
