#!/usr/bin/env python3
"""Top frames of a dotnet-trace sampled-thread-time trace converted to speedscope (bench/profile.sh).

Time on a thread counts only while the thread is running code: stretches whose innermost frame is a wait (the
thread pool's idle workers, socket polling, a timer's sleep) are left out, so the percentages are shares of the
server's busy time. Inclusive: the frame or anything it called; exclusive: the frame itself.
usage: profile.py TRACE.speedscope.json [N]
"""
import json
import re
import sys
from collections import Counter

IDLE = re.compile(r"Wait|Sleep|epoll|LowLevelLifoSemaphore|LowLevelSpinWaiter|Interop\+Sys\.(Read|Poll|WaitForSocketEvents)|"
                  r"PollGC|Missing Symbol|\?!\?|StartCallback\(\)$|WorkerThreadStart\(\)$|EventLoop\(\)$")
# the trace's own frames: the process, the thread, and the pseudo-leaves that say whether managed or native code ran
PSEUDO = re.compile(r"^(Process64 |\(Non-Activities\)$|Threads$|Thread \(\d+\)$|CPU_TIME$|UNMANAGED_CODE_TIME$)")

data = json.load(open(sys.argv[1]))
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
names = [f["name"] for f in data["shared"]["frames"]]
inclusive, exclusive = Counter(), Counter()
callers = Counter()   # (innermost frame, the four frames that called it) -> time
busy = 0.0
for profile in data["profiles"]:
    stack, last = [], None
    for event in profile["events"]:
        at = event["at"]
        real = [f for f in stack if not PSEUDO.search(names[f])]
        if last is not None and real and not IDLE.search(names[real[-1]]):
            span = at - last
            busy += span
            exclusive[real[-1]] += span
            callers[(real[-1], tuple(real[-5:-1]))] += span
            for frame in set(real):
                inclusive[frame] += span
        last = at
        if event["type"] == "O":
            stack.append(event["frame"])
        elif stack:
            stack.pop()


def short(name, width=110):
    return name if len(name) <= width else name[: width - 1] + "…"


print(f"busy time sampled: {busy:,.0f} ms over {len(data['profiles'])} threads (a sample's innermost frame not a wait)\n")
print("| Frame (inclusive) | % of busy time |")
print("|---|---:|")
for frame, span in inclusive.most_common(top):
    print(f"| `{short(names[frame])}` | {100 * span / busy:.1f} |")
print("\n| Frame (exclusive) | % of busy time |")
print("|---|---:|")
for frame, span in exclusive.most_common(top):
    print(f"| `{short(names[frame])}` | {100 * span / busy:.1f} |")
middleware = [(names[f], s) for f, s in inclusive.items() if re.search(r"Middleware.*(Invoke|MoveNext)|Invoke.*Middleware", names[f])]
if middleware:
    print("\n| Middleware (inclusive: itself and everything after it) | % of busy time |")
    print("|---|---:|")
    for name, span in sorted(middleware, key=lambda m: -m[1])[:top]:
        print(f"| `{short(name)}` | {100 * span / busy:.1f} |")

print("\n| Where the five largest exclusive frames are called from (innermost caller last) | % of busy time |")
print("|---|---:|")
for frame, _ in exclusive.most_common(5):
    paths = sorted(((path, span) for (leaf, path), span in callers.items() if leaf == frame), key=lambda p: -p[1])[:3]
    for path, span in paths:
        chain = " ← ".join(re.sub(r"^[^!]*!", "", names[f]).split("(")[0] for f in reversed(path))
        print(f"| `{re.sub(r'^[^!]*!', '', names[frame]).split('(')[0]}` ← {chain} | {100 * span / busy:.1f} |")
