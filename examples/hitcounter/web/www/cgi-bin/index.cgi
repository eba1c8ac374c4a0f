#!/bin/sh
# busybox httpd runs /cgi-bin/index.cgi for "/" when there is no index.html.
count=$(printf 'INCR hits\n' | nc "${STORE_HOST:-store}" 6379)
printf 'Content-Type: text/plain\r\n\r\n'
if [ -z "$count" ]; then
    echo "The store is not answering."
else
    echo "Hello World! I have been seen ${count} times."
fi
