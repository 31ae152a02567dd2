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
# The request line without its query string: queries carry what no log should keep (search
# words, a code in /redeem?code=, the shared secret of Kannel's calls to /sms/…).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
# The proxies whose X-Forwarded-* headers count (nginx on this host by default; a proxy on
# another host is named by address in PULLFIRST_FORWARDED_ALLOW_IPS, comma-separated).
forwarded_allow_ips = os.environ.get("PULLFIRST_FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """With preload_app, read content/ once in the master before the workers fork: they
    inherit every page instead of each reading 10,000 of them on its first request."""
    app = server.app.wsgi() if server.cfg.preload_app else None
    if "pullfirst.library" in getattr(app, "extensions", {}):
        import gc

        from app.site.wiring import prepare_content

        server.log.info("content: %s", prepare_content(app))
        gc.freeze()  # keep the loaded pages out of the workers' garbage collections
