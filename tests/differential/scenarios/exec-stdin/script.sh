echo from-stdin
echo to-stderr >&2
exit 5
