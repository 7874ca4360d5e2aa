"""gunicorn settings for the o2o service: `gunicorn -c gunicorn.conf.py` (the app is named here).

Flags given on the command line win over this file (`make bench` passes its own -b and -w).
"""

import os

wsgi_app = "o2o:create_app()"

# Where to listen: HOST and PORT, as `o2o run` and the Makefile name them.
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"]

# Sync workers, one more than the cores: the app is CPU-bound, and the extra worker keeps the
# cores busy while another waits on PostgreSQL (the bench's finding, bench/run.py).
# WEB_CONCURRENCY is gunicorn's own variable for the count.
workers = int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) + 1)
worker_class = "sync"

# Oversize request lines and headers must reach the app, which refuses them in the API's error
# envelope (414 uri_too_long over 4094 bytes of URL; 431 request_header_too_large over 8190
# bytes in one header or over 100 headers; o2o/api/__init__.py), rather than gunicorn with an
# HTML page at its lower defaults (4094, 8190, 100). These are the ceilings past which gunicorn
# answers itself: 8190 is the longest request line it will take (a larger value is clamped, and
# 0, "unlimited", would let its pure-Python parser buffer a line without bound).
limit_request_line = 8190
limit_request_field_size = 32768
limit_request_fields = 200

# gunicorn 25+ opens a control socket at one fixed path per user, which several instances on
# one machine (the bench, the test suite, scale-out) would share; nothing here uses it.
control_socket_disable = True
