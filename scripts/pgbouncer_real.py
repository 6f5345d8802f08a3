#!/usr/bin/env python3
"""The generated pgbouncer against the real pgbouncer and PostgreSQL (Debian
packages), on 127.0.0.1 only, bounded in time.

1. `lummo eval pgbouncer` renders tests/pgbouncer/input.yaml (vault: static).
2. A PostgreSQL cluster is initdb'd in a temp dir (scram-sha-256) with the app's role.
3. The Secret VSO would write (keys host, port, database, username, password) feeds
   the generated Deployment's init container: its own script, run with the env the
   Deployment maps from the Secret, the ConfigMap mounted at /config and the memory
   volume at /etc/pgbouncer (paths rewritten to temp dirs; listen address and port
   rewritten to 127.0.0.1 and a free port).
4. pgbouncer starts with the result; a client connects as the app does, from the
   generated `<app>-db` ConfigMap (DB_HOST/DB_PORT: the pgbouncer Service) and the
   Secret, sending a JDBC-style startup packet (extra_float_digits=2) and SCRAM.
5. Rotation: the role's password changes, the Secret changes, and every
   rolloutRestartTarget of the generated VaultStaticSecret restarts (pgbouncer: init
   script and process again; the app: new env from the Secret). The app works.
   A client still holding the old password is refused, which is why the app's
   Rollout must be a restart target.
Runs as an unprivileged user when started as root (PostgreSQL and pgbouncer refuse
root). Prints `pgbouncer-real: N passed, M failed`; a missing tool fails.
"""
import base64
import glob
import hashlib
import hmac
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUMMO = os.path.join(ROOT, os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"), "lummo")
USER = "lummo-pgtest"
checks = []


def check(name, ok, detail=""):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        print(f"pgbouncer-real: `{name}` is required (apt-get install -y pgbouncer postgresql)", file=sys.stderr)
        print("pgbouncer-real: 0 passed, 1 failed")
        sys.exit(1)
    return found


def demote():
    """preexec_fn: drop to the unprivileged user when running as root."""
    if os.getuid() == 0:
        entry = pwd.getpwnam(USER)
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)


def run(args, **kw):
    return subprocess.run(args, preexec_fn=demote, capture_output=True, text=True, timeout=60, **kw)


# --- a client speaking the PostgreSQL protocol as JDBC does --------------------
def message(sock):
    kind = sock.recv(1)
    if not kind:
        raise ConnectionError("connection closed")
    length = struct.unpack("!I", recv_exact(sock, 4))[0]
    return kind, recv_exact(sock, length - 4)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def send(sock, kind, payload):
    sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)


def error_text(payload):
    fields = dict((p[:1], p[1:].decode()) for p in payload.split(b"\0") if p)
    return fields.get(b"M", "?")


def connect(host, port, user, password, database):
    """Startup (with extra_float_digits, as pgjdbc sends it), SCRAM-SHA-256,
    `SELECT 1`. Returns the query's value, or raises with the server's error."""
    with socket.create_connection((host, port), timeout=10) as sock:
        params = {"user": user, "database": database, "extra_float_digits": "2", "application_name": "jdbc-like"}
        body = struct.pack("!I", 196608) + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
        sock.sendall(struct.pack("!I", len(body) + 4) + body)
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=,r={nonce}"
        while True:
            kind, payload = message(sock)
            if kind == b"E":
                raise ConnectionError(error_text(payload))
            if kind == b"R":
                code = struct.unpack("!I", payload[:4])[0]
                if code == 10:  # SASL
                    first = ("n,," + first_bare).encode()
                    send(sock, b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first)
                elif code == 11:  # SASL continue
                    server_first = payload[4:].decode()
                    fields = dict(f.split("=", 1) for f in server_first.split(","))
                    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
                    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
                    without_proof = f"c=biws,r={fields['r']}"
                    auth = f"{first_bare},{server_first},{without_proof}".encode()
                    signature = hmac.new(hashlib.sha256(client_key).digest(), auth, "sha256").digest()
                    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
                    send(sock, b"p", f"{without_proof},p={proof}".encode())
            elif kind == b"Z":
                break
        send(sock, b"Q", b"SELECT 1\0")
        value = None
        while True:
            kind, payload = message(sock)
            if kind == b"E":
                raise ConnectionError(error_text(payload))
            if kind == b"D":
                length = struct.unpack("!i", payload[2:6])[0]
                value = payload[6:6 + length].decode()
            if kind == b"Z":
                return value


def main():
    initdb, postgres, pgbouncer = tool("initdb"), tool("postgres"), tool("pgbouncer")
    if not os.path.exists(LUMMO):
        print(f"pgbouncer-real: {LUMMO} is missing (make build)", file=sys.stderr)
        print("pgbouncer-real: 0 passed, 1 failed")
        return 1
    if os.getuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
    rendered = subprocess.run([LUMMO, "eval", "pgbouncer"], input=open(os.path.join(ROOT, "tests/pgbouncer/input.yaml")).read(),
                              capture_output=True, text=True, timeout=60)
    items = yaml.safe_load(rendered.stdout)["items"]
    by = {(o["kind"], o["metadata"]["name"]): o for o in items}
    spec = next(o for o in items if o["kind"] == "LummoPgBouncer")
    name, app = spec["metadata"]["name"], spec["spec"]["app"]
    deployment, config = by[("Deployment", name)], by[("ConfigMap", name)]
    app_config = by[("ConfigMap", f"{app}-db")]
    vault = by[("VaultStaticSecret", name)]
    targets = {(t["kind"], t["name"]) for t in vault["spec"]["rolloutRestartTargets"]}
    check("rotation restarts pgbouncer and the app", targets == {("Deployment", name), ("argo.Rollout", app)}, str(targets))

    tmp = tempfile.mkdtemp(prefix="pgbouncer-real-")
    os.chmod(tmp, 0o755)
    procs = []
    try:
        for sub in ("pg", "config", "runtime"):
            os.makedirs(os.path.join(tmp, sub))
        if os.getuid() == 0:
            entry = pwd.getpwnam(USER)
            for sub in ("", "pg", "config", "runtime"):
                os.chown(os.path.join(tmp, sub), entry.pw_uid, entry.pw_gid)
        pg_port, bouncer_port = free_port(), free_port()
        with open(os.path.join(tmp, "pw"), "w") as f:
            f.write("superpass\n")
        os.chmod(os.path.join(tmp, "pw"), 0o644)
        out = run([initdb, "-D", f"{tmp}/pg/data", "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={tmp}/pw"])
        check("initdb", out.returncode == 0, out.stderr)
        procs.append(subprocess.Popen([postgres, "-D", f"{tmp}/pg/data", "-p", str(pg_port), "-c", "listen_addresses=127.0.0.1",
                                       "-c", f"unix_socket_directories={tmp}/pg"], preexec_fn=demote,
                                      stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/postgres.log", "w")))
        wait_port(pg_port)
        deadline = time.time() + 20
        while True:  # listening comes before accepting logins ("starting up")
            try:
                connect("127.0.0.1", pg_port, "postgres", "superpass", "postgres")
                break
            except ConnectionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        admin = lambda sql: run(["psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                env={**os.environ, "PGPASSWORD": "superpass"})
        admin("CREATE ROLE app LOGIN PASSWORD 'first-password'")
        admin("CREATE DATABASE orders OWNER app")
        secret = {"host": "127.0.0.1", "port": str(pg_port), "database": "orders", "username": "app", "password": "first-password"}

        def start_pgbouncer():
            """The pod: the init container's script, then pgbouncer."""
            ini = config["data"]["pgbouncer.ini"].replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1").replace(
                "listen_port = 6432", f"listen_port = {bouncer_port}").replace("/etc/pgbouncer/", f"{tmp}/runtime/")
            with open(f"{tmp}/config/pgbouncer.ini", "w") as f:
                f.write(ini)
            pod = deployment["spec"]["template"]["spec"]
            init = pod["initContainers"][0]
            env = {"PATH": os.environ["PATH"]}
            for var in init["env"]:
                ref = var["valueFrom"]["secretKeyRef"]
                assert ref["name"] == spec["spec"]["connectionSecret"], ref
                env[var["name"]] = secret[ref["key"]]
            script = init["command"][2].replace("/config/", f"{tmp}/config/").replace("/etc/pgbouncer/", f"{tmp}/runtime/")
            result = run(["/bin/sh", "-c", script], env=env)
            check("init container script", result.returncode == 0, result.stderr)
            args = pod["containers"][0]["command"]
            process = subprocess.Popen([pgbouncer, args[1].replace("/etc/pgbouncer/", f"{tmp}/runtime/")], preexec_fn=demote,
                                       stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/pgbouncer.log", "a"))
            wait_port(bouncer_port)
            return process

        def app_connects(password):
            """The app: DB_HOST/DB_PORT from `<app>-db` (the Service, here 127.0.0.1 and
            pgbouncer's port), credentials and database from the Secret."""
            assert app_config["data"]["DB_HOST"].split(".")[0] == name and app_config["data"]["DB_PORT"] == "6432"
            return connect("127.0.0.1", bouncer_port, secret["username"], password, secret["database"])

        bouncer = start_pgbouncer()
        procs.append(bouncer)
        try:
            check("app connects through pgbouncer with extra_float_digits", app_connects(secret["password"]) == "1")
        except Exception as error:  # noqa: BLE001
            check("app connects through pgbouncer with extra_float_digits", False, str(error))
        # Rotation, as a static Vault secret rotates: the role's password changes,
        # VSO writes the Secret and restarts every rolloutRestartTarget.
        admin("ALTER ROLE app PASSWORD 'second-password'")
        old = secret["password"]
        secret["password"] = "second-password"
        bouncer.terminate()
        bouncer.wait(10)
        wait_closed(bouncer_port)
        procs.append(start_pgbouncer())
        try:
            check("after rotation the restarted app connects", app_connects(secret["password"]) == "1")
        except Exception as error:  # noqa: BLE001
            check("after rotation the restarted app connects", False, str(error))
        try:
            app_connects(old)
            check("a client with the old password is refused", False, "it was let in")
        except ConnectionError:
            check("a client with the old password is refused", True)
    finally:
        for process in procs:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        if not all(checks):
            for log in ("postgres.log", "pgbouncer.log"):
                path = os.path.join(tmp, log)
                if os.path.exists(path):
                    print(f"--- {log}\n{open(path).read()[-2000:]}")
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(checks)
    print(f"pgbouncer-real: {passed} passed, {len(checks) - passed} failed")
    return 0 if all(checks) else 1


def wait_port(port, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def wait_closed(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.1)
        except OSError:
            return


if __name__ == "__main__":
    sys.exit(main())
