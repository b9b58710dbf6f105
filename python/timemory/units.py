"""Unit constants: divide a raw value (ns, bytes) by one to convert it."""

nsec = 1
usec = 1000
msec = 1000000
csec = 10000000
dsec = 100000000
sec = 1000000000
min = 60 * sec  # noqa: A001
hr = 3600 * sec
byte = 1
kilobyte = 1000
megabyte = 1000**2
gigabyte = 1000**3
terabyte = 1000**4
petabyte = 1000**5
kibibyte = 1024
mebibyte = 1024**2
gibibyte = 1024**3
tebibyte = 1024**4
pebibyte = 1024**5
