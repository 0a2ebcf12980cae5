"""redis-py (Debian's python3-redis) against a Dynamite node: the calls an application makes.
Usage: redis_py_check.py PORT. Exits non-zero with a message on the first mismatch."""
import sys
import time

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)


def check(name, actual, expected):
    if actual != expected:
        print(f"FAIL {name}: expected {expected!r}, got {actual!r}")
        sys.exit(1)


check("ping", r.ping(), True)
check("set", r.set("py:a", "1"), True)
check("get", r.get("py:a"), b"1")
check("get missing", r.get("py:missing"), None)
check("set nx existing", r.set("py:a", "2", nx=True), None)
check("set xx existing", r.set("py:a", "2", xx=True), True)
check("getset", r.getset("py:a", "3"), b"2")
check("incr", r.incr("py:n"), 1)
check("incrby", r.incrby("py:n", 41), 42)
check("decrby", r.decrby("py:n", 2), 40)
check("incrbyfloat", r.incrbyfloat("py:f", 1.5), 1.5)
check("append", r.append("py:s", "hello"), 5)
check("append again", r.append("py:s", " world"), 11)
check("strlen", r.strlen("py:s"), 11)
check("getrange", r.getrange("py:s", 0, 4), b"hello")
check("setrange", r.setrange("py:s", 6, "WORLD"), 11)
check("get after setrange", r.get("py:s"), b"hello WORLD")
check("mset", r.mset({"py:m1": "x", "py:m2": "y"}), True)
check("mget", r.mget(["py:m1", "py:missing", "py:m2"]), [b"x", None, b"y"])
check("msetnx", r.msetnx({"py:m1": "z", "py:m3": "w"}), False)
check("exists", r.exists("py:m1", "py:m2", "py:missing"), 2)
check("delete", r.delete("py:m1", "py:missing"), 1)
check("type", r.type("py:m2"), b"string")
check("type none", r.type("py:missing"), b"none")

# Binary safety: every byte value round-trips.
blob = bytes(range(256)) * 40
check("binary set", r.set(b"py:\x00\xffbin", blob), True)
check("binary get", r.get(b"py:\x00\xffbin"), blob)

# Expiry.
check("setex", r.setex("py:e", 100, "v"), True)
ttl = r.ttl("py:e")
check("ttl range", 95 <= ttl <= 100, True)
check("persist", r.persist("py:e"), True)
check("ttl after persist", r.ttl("py:e"), -1)
check("pexpire", r.pexpire("py:e", 150), True)
time.sleep(0.4)
check("expired", r.get("py:e"), None)
check("getex", r.set("py:g", "v") and r.getex("py:g", ex=50), b"v")
check("getdel", r.getdel("py:g"), b"v")

# Pipelining (no MULTI: transaction=False) sends many commands in one write.
pipe = r.pipeline(transaction=False)
for i in range(500):
    pipe.set(f"py:p{i}", i)
for i in range(500):
    pipe.get(f"py:p{i}")
results = pipe.execute()
check("pipeline sets", results[:500], [True] * 500)
check("pipeline gets", results[500:], [str(i).encode() for i in range(500)])

# SCAN iterates every key once.
keys = set(r.scan_iter(match="py:p*", count=50))
check("scan_iter", len(keys), 500)
check("keys", len(r.keys("py:p1*")), 111)

# Errors come back as exceptions and the connection keeps working.
r.set("py:text", "abc")
try:
    r.incr("py:text")
    print("FAIL incr on text did not raise")
    sys.exit(1)
except redis.ResponseError as error:
    check("incr error", str(error), "value is not an integer or out of range")
check("ping after error", r.ping(), True)

info = r.info()
check("info has redis_version", "redis_version" in info, True)
check("dbsize", r.dbsize() > 500, True)
check("client setname", r.client_setname("py-check"), True)
check("client getname", r.client_getname(), "py-check")
check("flushall", r.flushall(), True)
check("dbsize after flushall", r.dbsize(), 0)
print("OK")
