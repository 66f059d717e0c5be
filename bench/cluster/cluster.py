#!/usr/bin/env python3
"""Builds a cluster of network namespaces joined by veth and two bridges
(three Portcullis hosts, a PostgreSQL primary and its streaming standby,
HAProxy and a client), runs bench/cluster/load.py in the client namespace,
and while it runs kills a host, cuts one off from the database, fails the
database over and restarts every host in turn. Prints what held; exits 0
only if everything did. Everything it makes it removes. Run as root, through
bench/cluster/run.

    python3 cluster.py --binary PATH [--keep-logs DIR]
    python3 cluster.py --cleanup        # removes what a crashed run left
"""
import argparse
import base64
import functools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report

HERE = Path(__file__).resolve().parent
LEFTOVER = re.compile(r"^pcx(\d+)-")  # a namespace's name: pcx<harness pid>-<host>
TEMPORARY = re.compile(r"^pcx-(?:cluster|bin)-(\d+)-")  # /tmp directories: this script's and run's
MIN_POSTGRES = 13  # wal_keep_size, pg_basebackup -R writing postgresql.auto.conf
FRONT, BACK = "10.77.1", "10.77.2"
BALANCER, CLIENT = FRONT + ".2", FRONT + ".3"
PRIMARY, STANDBY = BACK + ".21", BACK + ".22"
DATABASE_URL = (f"postgres://postgres@{PRIMARY}:5432,{STANDBY}:5432/portcullis"
                "?target_session_attrs=read-write")
APP_PORT = 8080
LOCKOUT_THRESHOLD = 5
STEADY_SECONDS = 5
SIGTERM_GRACE = 30
CUT_SECONDS = 8
READYZ_TIMEOUT = 2  # as HAProxy's `timeout check`
LOAD_ANSWER_TIMEOUT = 120  # for the load generator's `ready` and each `ok`


@functools.cache
def pg_bin():
    """Debian's newest PostgreSQL's bin directory (as .ci/run picks it); an error below MIN_POSTGRES."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found or int(found[-1].parent.name) < MIN_POSTGRES:
        raise RuntimeError(f"PostgreSQL {MIN_POSTGRES} or later is needed under /usr/lib/postgresql "
                           f"(found {[p.parent.name for p in found]})")
    return found[-1]


def log(message):
    """One line of progress on standard error, stamped."""
    print(time.strftime("%H:%M:%S ") + message, file=sys.stderr, flush=True)


def run(argv, timeout=120, **options):
    """Runs argv to completion; its standard output, or an error naming it."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **options)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def in_ns(ns, *argv):
    """argv run inside the network namespace ns."""
    return ["ip", "netns", "exec", ns, *map(str, argv)]


def as_postgres(ns, *argv):
    """argv run inside ns as the postgres user."""
    return in_ns(ns, "runuser", "-u", "postgres", "--", *argv)


def alive(pid):
    """Whether a process with this pid runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_namespaces(owned):
    """Deletes every pcx namespace whose harness pid owned(pid) accepts, killing what runs in it first."""
    for line in run(["ip", "netns", "list"]).splitlines():
        name = line.split()[0] if line.strip() else ""
        match = LEFTOVER.match(name)
        if not match or not owned(int(match.group(1))):
            continue
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
        for pid in pids.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def remove_leftovers():
    """Removes what runs whose harness died left: namespaces, and their /tmp directories."""
    remove_namespaces(lambda pid: not alive(pid))
    for path in Path("/tmp").iterdir():
        match = TEMPORARY.match(path.name)
        if match and not alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


class Topology:
    """The namespaces, bridges and links; every address lives inside them."""

    def __init__(self):
        """Names this run's namespaces and each host's links."""
        self.prefix = f"pcx{os.getpid()}-"
        self.switch = self.ns("switch")
        # host -> [(bridge, address)]; the bridge's name is the interface's inside the host.
        self.hosts = {"lb": [("front", BALANCER)], "client": [("front", CLIENT)],
                      "pg1": [("back", PRIMARY)], "pg2": [("back", STANDBY)]}
        for n in (1, 2, 3):
            self.hosts[f"app{n}"] = [("front", f"{FRONT}.1{n}"), ("back", f"{BACK}.1{n}")]

    def ns(self, host):
        """The namespace of host."""
        return self.prefix + host

    def build(self):
        """Two bridges in the switch namespace, a veth pair per host link."""
        run(["ip", "netns", "add", self.switch])
        for bridge in ("front", "back"):
            run(["ip", "-n", self.switch, "link", "add", bridge, "type", "bridge"])
            run(["ip", "-n", self.switch, "link", "set", bridge, "up"])
        for host, links in self.hosts.items():
            ns = self.ns(host)
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            for bridge, address in links:
                port = f"{host}-{bridge}"
                run(["ip", "-n", self.switch, "link", "add", port, "type", "veth",
                     "peer", "name", bridge, "netns", ns])
                run(["ip", "-n", self.switch, "link", "set", port, "master", bridge, "up"])
                run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", bridge])
                run(["ip", "-n", ns, "link", "set", bridge, "up"])

    def set_link(self, host, bridge, state):
        """Brings host's interface on bridge up or down, inside the host."""
        run(["ip", "-n", self.ns(host), "link", "set", bridge, state])

    def remove(self):
        """Deletes every namespace of this run, and what runs in them (PostgreSQL too)."""
        remove_namespaces(lambda pid: pid == os.getpid())


def http_status(ns, url, timeout=READYZ_TIMEOUT):
    """The status of GET url from inside ns (0 when nothing answered)."""
    done = subprocess.run(in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--max-time", timeout, url), capture_output=True, text=True, timeout=timeout + 10)
    return int(done.stdout or 0)


def wait_for(what, check, timeout):
    """Polls check() until it is true; an error naming what after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return time.time()
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


class Postgres:
    """One PostgreSQL server in its namespace, run with pg_ctl as postgres."""

    def __init__(self, ns, address, root):
        """Prepares the directories of a server whose data lives under root."""
        self.ns, self.address = ns, address
        self.data, self.sockets = root / "data", root / "sockets"
        self.log = root.parent / f"logs/{root.name}.log"
        for directory in (root, self.sockets):
            directory.mkdir(parents=True)
            shutil.chown(directory, "postgres", "postgres")
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")

    def tool(self, name, *args, timeout=120):
        """Runs one of PostgreSQL's programs in this server's namespace as postgres; its output."""
        return run(as_postgres(self.ns, pg_bin() / name, *args), timeout=timeout)

    def pg_ctl(self, *args):
        """pg_ctl on this server's data directory, waiting up to 60 s."""
        return self.tool("pg_ctl", "-D", self.data, "-w", "-t", "60", *args)

    def psql(self, sql):
        """One statement's rows, unaligned."""
        return self.tool("psql", "-h", self.address, "-U", "postgres", "-d", "postgres", "-Atc", sql).strip()

    def init_primary(self):
        """A new cluster that takes connections and replicas from the back network."""
        self.tool("initdb", "-D", self.data, "-A", "trust", "-E", "UTF8", "--no-sync", "-U", "postgres")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("fsync = off\nfull_page_writes = off\nmax_connections = 200\nwal_level = replica\n"
                       "max_wal_senders = 5\nhot_standby = on\nwal_keep_size = '256MB'\n")
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {BACK}.0/24 trust\nhost replication all {BACK}.0/24 trust\n")

    def init_standby(self, primary):
        """A streaming copy of primary (pg_basebackup -R)."""
        self.tool("pg_basebackup", "-h", primary.address, "-U", "postgres", "-D", self.data, "-R",
                  "-X", "stream", "--checkpoint=fast")

    def start(self):
        """Starts the server on its back address, its sockets in its own directory."""
        self.pg_ctl("-l", self.log, "-o",
                    f"-c listen_addresses={self.address} -c unix_socket_directories={self.sockets}", "start")


class Process:
    """A child in its own process group, its output in a log file."""

    def __init__(self, argv, log_path, **options):
        """A process to run argv, its output appended to log_path; not started yet."""
        self.argv, self.log_path, self.options = argv, log_path, options
        self.child = None

    def start(self):
        """Starts the child, appending to its log."""
        with open(self.log_path, "a") as output:
            self.child = subprocess.Popen(self.argv, stdout=output, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True, **self.options)

    def stop(self, number=signal.SIGKILL, timeout=10):
        """Signals the process group (if the child still runs), then waits for the exit; True if it
        exited within timeout."""
        if not self.child:
            return True
        if self.child.poll() is None:
            try:
                os.killpg(self.child.pid, number)
            except ProcessLookupError:
                pass
        try:
            self.child.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


class AppHost(Process):
    """One Portcullis instance, listening on its front address."""

    def __init__(self, name, ns, binary, workdir, env):
        """A host named appN in namespace ns, run from workdir with env; not started yet."""
        self.name, self.ns = name, ns
        self.address = f"{FRONT}.1{name[-1]}"
        self.url = f"http://{self.address}:{APP_PORT}"
        workdir.mkdir()
        argv = in_ns(ns, binary, "serve", "--listen", f"{self.address}:{APP_PORT}",
                     "--issuer", f"http://{BALANCER}", "--workers", "2", "--db-pool-size", "8",
                     "--trusted-proxies", f"{BALANCER}/32",
                     "--client-lockout-threshold", LOCKOUT_THRESHOLD)
        super().__init__(argv, workdir.parent / f"logs/{name}.log", cwd=workdir, env=env)

    def ready(self, client_ns, timeout=READYZ_TIMEOUT):
        """Whether /readyz answers 200 to the client within timeout seconds."""
        return http_status(client_ns, self.url + "/readyz", timeout) == 200

    def mark(self, note):
        """Writes a line into this host's log, so the log shows when the harness acted."""
        with open(self.log_path, "a") as output:
            output.write(f"===== harness {time.strftime('%H:%M:%S')}: {note}\n")


HAPROXY_CONFIG = """\
global
    log stdout format raw local0 info
defaults
    mode http
    log global
    option httplog
    option forwardfor
    option redispatch
    retries 2
    retry-on conn-failure
    timeout connect 1s
    timeout client 30s
    timeout server 20s
    timeout check {check}s
    errorfile 503 {errorfile}
frontend portcullis
    bind {balancer}:80
    default_backend hosts
backend hosts
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 2 check
    http-after-response set-header X-Served-By %s
{servers}
"""

UNAVAILABLE = json.dumps({"error": "temporarily_unavailable", "error_description": "no Portcullis host answers"})


def haproxy(directory, hosts, ns):
    """HAProxy balancing hosts, its configuration checked, not started."""
    errorfile = directory / "503.http"
    errorfile.write_bytes(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                           "Retry-After: 1\r\nCache-Control: no-store\r\nConnection: close\r\n"
                           f"Content-Length: {len(UNAVAILABLE)}\r\n\r\n{UNAVAILABLE}").encode())
    servers = "\n".join(f"    server {h.name} {h.address}:{APP_PORT}" for h in hosts)
    config = directory / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(errorfile=errorfile, balancer=BALANCER, servers=servers,
                                            check=READYZ_TIMEOUT))
    run(["haproxy", "-c", "-q", "-f", config])
    return Process(in_ns(ns, "haproxy", "-db", "-f", config), directory / "logs/haproxy.log")


class Cluster:
    """The topology and everything running in it; `close` undoes it all."""

    def __init__(self, binary, root):
        """Lays out the cluster under root (a key-encryption key, directories); starts nothing."""
        self.root = root
        (root / "logs").mkdir()
        self.topology = Topology()
        self.client_ns = self.topology.ns("client")
        self.primary = Postgres(self.topology.ns("pg1"), PRIMARY, root / "pg1")
        self.standby = Postgres(self.topology.ns("pg2"), STANDBY, root / "pg2")
        kek = root / "kek"
        kek.write_bytes(base64.b64encode(os.urandom(32)))
        kek.chmod(0o600)
        self.env = {"PATH": os.environ["PATH"], "DATABASE_URL": DATABASE_URL,
                    "PORTCULLIS_KEK_FILE": str(kek), "PORTCULLIS_LOG": "info"}
        self.binary = binary
        self.hosts = [AppHost(f"app{n}", self.topology.ns(f"app{n}"), binary, root / f"app{n}", self.env)
                      for n in (1, 2, 3)]
        self.balancer = haproxy(root, self.hosts, self.topology.ns("lb"))
        self.events = []

    def event(self, name, **details):
        """Records what the harness did and when, for the report."""
        self.events.append({"at": time.time(), "event": name, **details})
        log(name + "".join(f" {k}={v}" for k, v in details.items()))

    def wait_ready(self, host, timeout=180):
        """Waits until host's /readyz answers 200; the time it did."""
        return wait_for(f"{host.name} to be ready", lambda: host.ready(self.client_ns), timeout)

    def up(self):
        """Builds everything and waits until HAProxy serves discovery."""
        self.topology.build()
        self.primary.init_primary()
        self.primary.start()
        self.primary.psql("CREATE DATABASE portcullis")
        self.standby.init_standby(self.primary)
        self.standby.start()
        wait_for("the standby to stream",
                 lambda: self.primary.psql("SELECT state FROM pg_stat_replication") == "streaming", 60)
        first, *others = self.hosts
        first.start()  # alone first: it migrates the schema
        self.wait_ready(first)
        for host in others:
            host.start()
        for host in others:
            self.wait_ready(host)
        self.balancer.start()
        discovery = f"http://{BALANCER}/.well-known/openid-configuration"
        wait_for("HAProxy to serve discovery", lambda: http_status(self.client_ns, discovery) == 200, 30)

    def cli(self, *args):
        """`portcullis ARGS` in app1's namespace, against whichever server is primary now: (exit code, output)."""
        done = subprocess.run(in_ns(self.hosts[0].ns, self.binary, *args), env=self.env,
                              cwd=self.hosts[0].options["cwd"], capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout, done.stderr

    def close(self):
        """Stops everything this run started and deletes its namespaces, each step on its own."""
        steps = [self.topology.remove] + [process.stop for process in (self.balancer, *self.hosts)]
        for step in steps:
            try:
                step()
            except Exception as failure:  # the next step must still run
                log(f"teardown: {step.__qualname__}: {failure}")


class Scenarios:
    """The faults, one after another, each bracketed as a window for the report."""

    def __init__(self, cluster, load):
        """The scenarios, driving the cluster and talking to the load generator load."""
        self.cluster, self.load = cluster, load
        self.windows = []

    def phase(self, name, faulted=()):
        """Starts a window once no probe is under way (the load generator probes only in steady
        ones); faulted names the hosts whose 503s the window excuses (none: a steady window)."""
        self.load.stdin.write(f"phase {name} {'fault' if faulted else 'steady'}\n".encode())
        if read_line(self.load) != "ok":  # no probe talks to a single host now
            raise RuntimeError("the load generator stopped; see logs/load.log")
        now = time.time()
        if self.windows:
            self.windows[-1]["end"] = now
        self.windows.append({"name": name, "fault": bool(faulted), "hosts": list(faulted), "start": now,
                             "end": None})
        log(f"--- {name}")

    def steady(self, name, seconds=STEADY_SECONDS):
        """A steady window of seconds."""
        self.phase(name)
        time.sleep(seconds)

    def kill_host(self, host):
        """kill -9, then a restart, waiting until it is ready."""
        self.phase(f"kill -9 {host.name}", [host.name])
        host.mark("kill -9")
        signalled = time.time()
        host.stop(signal.SIGKILL)
        # When the signal went, and (the event's time) when the process was gone.
        self.cluster.event("killed", host=host.name, signalled=signalled)
        time.sleep(1)
        started = time.time()
        host.start()
        self.cluster.event("restarted", host=host.name, ready_after=round(self.cluster.wait_ready(host) - started, 1))

    def cut_host(self, host, seconds=CUT_SECONDS):
        """Its back link down for seconds, then up until it is ready again."""
        self.phase(f"cut {host.name} from PostgreSQL", [host.name])
        host.mark("back link down")
        self.cluster.topology.set_link(host.name, "back", "down")
        self.cluster.event("cut", host=host.name)
        try:
            readiness = self.sample_readiness(host, seconds)
        finally:
            self.cluster.topology.set_link(host.name, "back", "up")
        host.mark("back link up")
        self.cluster.event("reconnected", host=host.name, readyz_while_cut=readiness)
        self.cluster.wait_ready(host)

    def sample_readiness(self, host, seconds):
        """Whether host was ready, sampled while cut for seconds (a /readyz not answered 200 within
        READYZ_TIMEOUT is not ready): [ready, seconds taken] each."""
        seen, deadline = [], time.time() + seconds
        while time.time() + READYZ_TIMEOUT < deadline:
            asked = time.time()
            seen.append([host.ready(self.cluster.client_ns), round(time.time() - asked, 2)])
            time.sleep(0.3)
        time.sleep(max(0.0, deadline - time.time()))
        return seen

    def fail_over(self):
        """Stops the primary cleanly, then promotes the standby; every host loses its database meanwhile
        (HAProxy's own 503, `<NOSRV>`, is excused too)."""
        self.phase("primary stopped, standby promoted", [h.name for h in self.cluster.hosts] + ["<NOSRV>"])
        for host in self.cluster.hosts:
            host.mark("primary stopping")
        self.cluster.primary.pg_ctl("-m", "fast", "stop")
        self.cluster.event("primary stopped")
        time.sleep(1)
        self.cluster.standby.pg_ctl("promote")
        self.cluster.event("standby promoted")
        for host in self.cluster.hosts:
            self.cluster.wait_ready(host, 60)

    def rolling_restart(self):
        """SIGTERM each host in turn, waiting for its exit and its readiness."""
        self.phase("rolling restart (SIGTERM)", [h.name for h in self.cluster.hosts])
        exits = {}
        for host in self.cluster.hosts:
            host.mark("SIGTERM")
            sent = time.time()
            graceful = host.stop(signal.SIGTERM, timeout=SIGTERM_GRACE)
            if not graceful:
                host.stop(signal.SIGKILL)
            exits[host.name] = {"graceful": graceful, "seconds": round(time.time() - sent, 2),
                                "code": host.child.returncode}
            self.cluster.event("stopped", host=host.name, **exits[host.name])
            host.start()
            self.cluster.wait_ready(host)
            self.cluster.event("ready", host=host.name)
            time.sleep(1.5)
        return exits

    def play(self, outcome):
        """Every scenario in turn, steady load between them; the SIGTERM exits into outcome."""
        hosts = self.cluster.hosts
        self.steady("baseline", 6)
        self.kill_host(hosts[0])
        self.steady("steady after kill")
        self.cut_host(hosts[1])
        self.steady("steady after cut")
        self.fail_over()
        self.steady("steady after failover")
        outcome["exits"] = self.rolling_restart()
        self.steady("soak: probes", 0)


def read_line(load, timeout=LOAD_ANSWER_TIMEOUT):
    """One line from the load generator's standard output, or an error after timeout seconds."""
    line, deadline = b"", time.time() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.time()
        if left <= 0 or not select.select([load.stdout], [], [], left)[0]:
            raise RuntimeError(f"the load generator said nothing for {timeout}s; see logs/load.log")
        byte = os.read(load.stdout.fileno(), 1)
        if not byte:
            break
        line += byte
    return line.decode().strip()


def start_load(cluster, admin, results):
    """load.py in the client namespace; it answers `ready` when set up."""
    config = cluster.root / "load.json"
    config.write_text(json.dumps({
        "balancer": f"http://{BALANCER}", "hosts": {h.name: h.url for h in cluster.hosts},
        "admin": admin, "results": str(results), "lockout_threshold": LOCKOUT_THRESHOLD}))
    with open(cluster.root / "logs/load.log", "a") as errors:
        load = subprocess.Popen(in_ns(cluster.client_ns, sys.executable, HERE / "load.py", config),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, bufsize=0,
                                start_new_session=True)
    line = read_line(load)
    if line != "ready":
        raise RuntimeError(f"the load generator did not start (said {line!r}); see logs/load.log")
    return load


def exercise(cluster, outcome):
    """The whole run against a cluster that is up, the report's data gathered into outcome as it comes."""
    outcome["events"] = cluster.events
    code, out, err = cluster.cli("bootstrap")
    if code:
        raise RuntimeError(f"portcullis bootstrap exited {code}: {err.strip()}")
    results = cluster.root / "results.json"
    load = start_load(cluster, json.loads(out), results)
    scenarios = Scenarios(cluster, load)
    outcome["windows"] = scenarios.windows
    try:
        scenarios.play(outcome)
        load.stdin.write(b"stop\n")  # the remaining probes and the last checks, then it exits
        load.wait(300)
    finally:
        if load.poll() is None:
            os.killpg(load.pid, signal.SIGKILL)
            load.wait()
        for stream in (load.stdin, load.stdout):
            stream.close()
    scenarios.windows[-1]["end"] = time.time()
    if load.returncode:
        raise RuntimeError(f"the load generator exited {load.returncode}; see logs/load.log")
    outcome["load"] = json.loads(results.read_text())
    code, out, err = cluster.cli("audit", "verify")
    outcome["audit"] = [code == 0, (out + err).strip()]


def on_signal(number, _frame):
    """Turns SIGTERM or SIGINT into an exit that tears everything down."""
    raise SystemExit(f"interrupted by signal {number}")


def main():
    """Parses the arguments; runs the harness (or only removes leftovers); the exit status."""
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--binary")
    options.add_argument("--keep-logs")
    options.add_argument("--cleanup", action="store_true")
    args = options.parse_args()
    remove_leftovers()
    if args.cleanup:
        return 0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    root = Path(tempfile.mkdtemp(prefix=f"pcx-cluster-{os.getpid()}-"))
    root.chmod(0o755)
    cluster, outcome = None, {}
    try:
        cluster = Cluster(args.binary, root)
        cluster.up()
        log("the cluster is up")
        exercise(cluster, outcome)
        return 0 if report.render(outcome) else 1
    except BaseException as failure:
        outcome["error"] = f"{type(failure).__name__}: {failure}"
        raise
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut the teardown short
            signal.signal(number, signal.SIG_IGN)
        if cluster:
            cluster.close()
        try:
            (root / "logs/outcome.json").write_text(json.dumps(outcome, indent=1))
        except Exception as failure:
            log(f"outcome.json not written: {failure}")
        if args.keep_logs:
            shutil.copytree(root / "logs", args.keep_logs, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
