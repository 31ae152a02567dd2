# Gunicorn settings for Pullfirst: gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'
# Web processes keep no state of their own, so workers (and hosts) can be added freely.
import multiprocessing
import os

bind = os.environ.get("PULLFIRST_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PULLFIRST_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = 4
# Loads the app (settings, content cache, rules) once, then forks the workers.
preload_app = True
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
