import time

import redis
from flask import Flask, request

app = Flask(__name__)
cache = redis.Redis(host='redis', port=6379)


def get_hit_count(count=True):
    # Redis may still be starting (or restarting): retry for a few seconds.
    retries = 5
    while True:
        try:
            return cache.incr('hits') if count else int(cache.get('hits') or 0)
        except redis.exceptions.ConnectionError as exc:
            if retries == 0:
                raise exc
            retries -= 1
            time.sleep(0.5)


@app.route('/')
def hello():
    # HEAD / is the healthcheck's probe: it runs this route and reads the
    # count (so Redis must answer) without counting itself as a visit.
    count = get_hit_count(count=request.method != 'HEAD')
    return 'Hello World! I have been seen {} times.\n'.format(count)
