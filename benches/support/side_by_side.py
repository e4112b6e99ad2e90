"""Side by side (issue 12, item 7): `migtop watch` and a long-running loop over the official
Python SDK (sdk_loop.py) poll the same `migtop simulate` for the same time, each in its own
pseudo-terminal of a fixed size. Reports, for each, the CPU time (user + system, from wait4's
rusage), the peak resident memory (ru_maxrss) and the bytes written to the terminal.

Driven by benches/side_by_side.sh, which builds migtop and the SDK's venv; run directly:

    python3 side_by_side.py --migtop target/release/migtop --python VENV/bin/python \
        [--instances 5 | --scale 100x10] [--interval 2] [--duration 60] [--size 120x40] \
        [--only migtop|sdk]

`--instances N` watches the first N instances of the built-in scenario; `--scale IxT`
generates a scenario of I instances with T tasks each and watches them all.
"""

import argparse
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The simulator's documented demo pair (valid nowhere but there).
DEMO_KEY = ("LTAI5tMigtopDemoKey", "migtop-demo-secret")


def scale_scenario(instances, tasks):
    """A scenario of `instances` instances with `tasks` increment tasks each."""
    out = []
    for i in range(instances):
        ts = []
        for t in range(tasks):
            ts.append({
                "id": 500000000 + i * 1000 + t,
                "name": f"scale-{i:03}-{t:02}",
                "source": {"ip": f"10.{i // 250}.{i % 250}.{t + 1}", "port": 5432, "password": "pw"},
                "stage": "increment",
                "in_stage_for": "30m",
                "lsn": f"{i + 1:X}/{t * 0x1000000:X}",
                "lag": f"{(i * tasks + t) % 64}MiB",
                "wal": {"rate": f"{1 + t % 4}MiB/s", "jitter": 0.4},
            })
        out.append({"id": f"pgm-scale{i:05}x", "tasks": ts})
    return {"name": f"scale {instances}x{tasks}", "epoch": "2026-01-01T00:00:00Z", "instances": out}


def start_simulator(migtop, env, scenario):
    """Starts `migtop simulate`; returns (process, endpoint, instance ids)."""
    argv = [migtop, "simulate"]
    if scenario:
        argv += ["--scenario", scenario]
    sim = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = instances = None
    while endpoint is None or instances is None:
        line = sim.stdout.readline()
        if not line:
            raise SystemExit("side_by_side: migtop simulate exited early")
        if line.startswith("listening on "):
            endpoint = line.split()[-1]
        elif line.startswith("instances: "):
            instances = line.split()[1:]
    return sim, endpoint, instances


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_in_pty(argv, env, duration, size, quit_keys):
    """Runs `argv` on a new pseudo-terminal of `size` (cols, rows) for `duration` seconds,
    reading (and counting) everything it writes. At the end `quit_keys` are typed (or, with
    none, the program is expected to leave by itself); SIGTERM after a grace period, then
    SIGKILL.
    Returns (bytes written, CPU seconds, peak RSS in KiB, exit status)."""
    master, slave = os.openpty()
    cols, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def controlling_tty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        argv, env=env, stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True, preexec_fn=controlling_tty, close_fds=True,
    )
    os.close(slave)
    written = 0
    start = time.monotonic()
    quit_at = start + duration
    term_at = quit_at + 5.0
    kill_at = term_at + 10.0
    asked = terminated = killed = False
    status = rusage = None
    while True:
        now = time.monotonic()
        if not asked and now >= quit_at:
            asked = True
            if quit_keys:
                os.write(master, quit_keys)
        if not terminated and now >= term_at:
            terminated = True
            proc.send_signal(signal.SIGTERM)
        if not killed and now >= kill_at:
            killed = True
            proc.kill()
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            written += len(chunk)
            if chunk:
                continue
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status, rusage = st, ru
            break
    # Whatever it wrote just before leaving.
    while True:
        ready, _, _ = select.select([master], [], [], 0)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        written += len(chunk)
    os.close(master)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return written, rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss, proc.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--migtop", required=True)
    ap.add_argument("--python", help="the venv's python with the official SDK (for the loop)")
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--scale", help="IxT: generate I instances with T tasks each")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--size", default="120x40", help="terminal COLSxROWS")
    ap.add_argument("--only", choices=["migtop", "sdk"])
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    work = tempfile.mkdtemp(prefix="migtop-side-by-side.")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": work,  # no ~/.aliyun, no config file
        "TERM": "xterm-256color",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_KEY[0],
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_KEY[1],
    }
    scenario = None
    if args.scale:
        i, t = (int(v) for v in args.scale.lower().split("x"))
        scenario = os.path.join(work, "scale.json")
        with open(scenario, "w") as f:
            json.dump(scale_scenario(i, t), f)
    sim, endpoint, instances = start_simulator(args.migtop, env, scenario)
    if not args.scale:
        instances = instances[: args.instances]
    try:
        runs = []
        if args.only != "sdk":
            argv = [args.migtop, "watch", "--endpoint", endpoint, "--allow-insecure-http",
                    "--interval", f"{args.interval:g}s"]
            for inst in instances:
                argv += ["-i", inst]
            runs.append(("migtop watch", argv, b"q"))
        if args.only != "migtop":
            if not args.python:
                raise SystemExit("side_by_side: --python (the SDK venv's) is needed for the SDK loop")
            argv = [args.python, os.path.join(HERE, "sdk_loop.py"), "--endpoint", endpoint,
                    "--interval", f"{args.interval:g}", "--duration", f"{args.duration:g}", *instances]
            runs.append(("official SDK loop", argv, None))
        print(f"machine: nproc {os.cpu_count()}, {cpu_model()}, {mem_total()}")
        print(f"work: {len(instances)} instances, interval {args.interval:g} s, {args.duration:g} s, "
              f"terminal {size[0]}x{size[1]}, simulator at {endpoint}")
        results = {}
        for name, argv, quit_keys in runs:
            before = loadavg()
            written, cpu, rss, code = run_in_pty(argv, env, args.duration, size, quit_keys)
            after = loadavg()
            results[name] = (cpu, rss, written)
            print(f"{name:18} CPU {cpu:6.3f} s  peak RSS {rss / 1024:6.1f} MiB  "
                  f"terminal {written / 1000:7.1f} KB  exit {code}  load {before} -> {after}")
        if len(results) == 2:
            (c1, r1, w1), (c2, r2, w2) = results.values()
            print(f"ratio migtop/SDK: CPU {c1 / c2:.2f}  RSS {r1 / r2:.2f}  terminal bytes {w1 / max(w2, 1):.2f}")
    finally:
        sim.send_signal(signal.SIGTERM)
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def mem_total():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1048576:.1f} GiB RAM"
    except OSError:
        pass
    return "unknown RAM"


if __name__ == "__main__":
    sys.exit(main())
