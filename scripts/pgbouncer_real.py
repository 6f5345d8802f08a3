#!/usr/bin/env python3
"""The generated pgbouncer against the real pgbouncer the Deployment pins and the
real PostgreSQL, on 127.0.0.1 only, bounded in time.

pgbouncer is the version of the generated Deployment's image (edoburu/pgbouncer:
v1.24.1-p1 → 1.24.1): Debian 13's package, unpacked by
scripts/fetch_pgbouncer_debian.sh into PGBOUNCER_ROOT and run through Debian 13's
own loader (`make deps`); another version fails the run. PostgreSQL is Debian's.

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
5. Drivers through the transaction pool under concurrent load: psycopg 3 with
   server-side prepared statements for every query (prepare_threshold=0) and asyncpg
   (prepares every statement), each client its own connection: 0 errors. The same
   load with `max_prepared_statements = 0` (pgbouncer < 1.21's behaviour) must fail,
   so the load does share server connections.
6. A migration holding a session advisory lock (as Flyway, Liquibase,
   golang-migrate, Rails do) through `<database>_session`, the generated session-mode
   database: no lock is left on PostgreSQL. Through the transaction pool, while
   another client holds a transaction, the unlock reaches another server connection
   and the lock stays: that is why migrations must not use it.
7. Drain: a transaction is in flight when the generated preStop runs (its SIGINT
   to pgbouncer's PID); it commits, and pgbouncer exits before the grace period.
8. Rotation: the role's password changes, the Secret changes, and every
   rolloutRestartTarget of the generated VaultStaticSecret restarts (pgbouncer: init
   script and process again; the app: new env from the Secret). The app works.
   A client still holding the old password is refused, which is why the app's
   Rollout must be a restart target.
9. Rotation without refusal: the dynamic-credentials pgbouncer (auth_query) of
   tests/pgbouncer/input.yaml, two pods behind a modelled Service; Vault creates a
   new user (the old lease stays valid), the pgbouncer Deployment rolls as its
   strategy says (maxSurge 1, maxUnavailable 0, the generated preStop) while the
   app's three pods restart one at a time onto the new user, each connecting every
   100 ms: 0 refused connections, 0 failed transactions. The control (the auth file
   alone, no auth_query) refuses the pods not yet restarted.
10. TLS to PostgreSQL (the serverTls pgbouncer): PostgreSQL serves a certificate of
   a CA made here; with that CA where the Deployment mounts the Secret, the app's
   session reaches PostgreSQL over TLS (verify-full); with another CA pgbouncer
   refuses the certificate.
Runs as an unprivileged user when started as root (PostgreSQL and pgbouncer refuse
root). Prints figures and `pgbouncer-real: N passed, M failed`; a missing tool fails.
"""
import base64
import glob
import hashlib
import hmac
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUMMO = os.path.join(ROOT, os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"), "lummo")
USER = "lummo-pgtest"
checks = []


def check(name, ok, detail=""):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")


def terminate(process):
    """SIGTERM, then SIGKILL after 10 s, for a process still running."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


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


PGBOUNCER_ROOT = os.environ.get("PGBOUNCER_ROOT", os.path.expanduser("~/.cache/lummo/pgbouncer-1.24.1"))
LIBS = os.path.join(PGBOUNCER_ROOT, "usr/lib/x86_64-linux-gnu")
PGBOUNCER = [os.path.join(LIBS, "ld-linux-x86-64.so.2"), "--library-path", LIBS, os.path.join(PGBOUNCER_ROOT, "usr/sbin/pgbouncer")]


def stage_pgbouncer(tmp):
    """A copy of the binary, loader and libraries in the temp dir: the cache folder
    may sit where the unprivileged user cannot reach (root's home)."""
    libs = os.path.join(tmp, "pgbouncer/lib")
    shutil.copytree(LIBS, libs, symlinks=True)
    shutil.copy2(PGBOUNCER[-1], os.path.join(tmp, "pgbouncer/pgbouncer"))
    return [os.path.join(libs, "ld-linux-x86-64.so.2"), "--library-path", libs, os.path.join(tmp, "pgbouncer/pgbouncer")]
CLIENTS = (8, 32)            # concurrent driver connections per run
TRANSACTIONS = 40            # per connection


def pinned_pgbouncer(deployment):
    """The pgbouncer binary of the version the Deployment's image pins, or exit."""
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    pinned = re.search(r":v?(\d+\.\d+\.\d+)", image).group(1)
    try:
        out = subprocess.run(PGBOUNCER + ["--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        out = ""
    found = re.match(r"PgBouncer (\S+)", out)
    if not found:
        print(f"pgbouncer-real: no pgbouncer in {PGBOUNCER_ROOT} (make deps)", file=sys.stderr)
        print("pgbouncer-real: 0 passed, 1 failed")
        sys.exit(1)
    check(f"pgbouncer {found.group(1)} is the version {image} pins", found.group(1) == pinned, f"{found.group(1)} != {pinned}")
    return found.group(1)


def documented_settings(version):
    """lummo-pgbouncer's list of settings (settings.tsv) is the [pgbouncer] section
    of the pinned version's configuration reference: the man page pgbouncer(5) of
    the same Debian package, generated from pgbouncer's doc/config.md."""
    import gzip

    page = gzip.open(os.path.join(PGBOUNCER_ROOT, "usr/share/man/man5/pgbouncer.5.gz"), "rt").read()
    section = page[page.index(".SH GENERIC SETTINGS"):page.index(".SH SECTION [DATABASES]")]
    reference = re.findall(r"^\.SS (\S+)$", section, re.M)
    tsv = open(os.path.join(ROOT, "functions/lummo-pgbouncer/src/settings.tsv")).read()
    ours = [line.split("\t")[0] for line in tsv.splitlines() if line and not line.startswith("#")]
    check(f"settings.tsv lists the {len(reference)} settings of pgbouncer(5) {version}, in its order",
          ours == reference, f"missing {sorted(set(reference) - set(ours))}, extra {sorted(set(ours) - set(reference))}")


def psycopg_load(port, secret, clients, prepare_threshold=0):
    """psycopg 3, every query a server-side prepared statement (prepare_threshold=0;
    its default, 5, prepares a query from its sixth run); each client its own
    connection, TRANSACTIONS transactions. Returns (errors, first error)."""
    import psycopg

    errors, first = 0, None
    lock = threading.Lock()

    def client(n):
        nonlocal errors, first
        try:
            with psycopg.connect(host="127.0.0.1", port=port, dbname=secret["database"], user=secret["username"],
                                 password=secret["password"], prepare_threshold=prepare_threshold, connect_timeout=10) as conn:
                for i in range(TRANSACTIONS):
                    try:
                        with conn.transaction():
                            conn.execute("INSERT INTO load (driver, client, n) VALUES (%s, %s, %s)", ("psycopg", n, i))
                            # Transactions overlap, so the pool opens several server
                            # connections and a client's next one may land on another.
                            conn.execute("SELECT pg_sleep(%s)", (0.002,))
                            row = conn.execute("SELECT count(*) FROM load WHERE driver = %s AND client = %s", ("psycopg", n)).fetchone()
                            assert row[0] >= 1, row
                    except Exception as error:  # noqa: BLE001
                        with lock:
                            errors += 1
                            first = first or f"{type(error).__name__}: {error}"
                        if conn.broken:
                            return
        except Exception as error:  # noqa: BLE001
            with lock:
                errors += 1
                first = first or f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors, first


def asyncpg_load(port, secret, clients):
    """asyncpg (prepares every statement, caches them per connection)."""
    import asyncio

    import asyncpg

    async def client(n):
        errors, first = 0, None
        conn = await asyncpg.connect(host="127.0.0.1", port=port, database=secret["database"], user=secret["username"],
                                     password=secret["password"], timeout=10)
        try:
            for i in range(TRANSACTIONS):
                try:
                    async with conn.transaction():
                        await conn.execute("INSERT INTO load (driver, client, n) VALUES ($1, $2, $3)", "asyncpg", n, i)
                        await conn.execute("SELECT pg_sleep($1)", 0.002)
                        count = await conn.fetchval("SELECT count(*) FROM load WHERE driver = $1 AND client = $2", "asyncpg", n)
                        assert count >= 1, count
                except Exception as error:  # noqa: BLE001
                    errors += 1
                    first = first or f"{type(error).__name__}: {error}"
                    if conn.is_closed():
                        break
        finally:
            await conn.close()
        return errors, first

    async def everyone():
        return await asyncio.gather(*(client(n) for n in range(clients)), return_exceptions=True)

    results = asyncio.run(asyncio.wait_for(everyone(), 120))
    errors, first = 0, None
    for result in results:
        if isinstance(result, BaseException):
            errors += 1
            first = first or f"{type(result).__name__}: {result}"
        else:
            errors += result[0]
            first = first or result[1]
    return errors, first


def advisory_lock_migration(port, secret, database, holder_port=None):
    """A migration as Flyway/Liquibase/golang-migrate do it: a session advisory lock,
    DDL, unlock, disconnect, autocommit. With `holder_port`, another client holds a
    transaction through that port between the lock and the unlock (a busy pool).
    Returns whether the unlock reported the lock as held."""
    import psycopg

    def conn(dbname, p):
        return psycopg.connect(host="127.0.0.1", port=p, dbname=dbname, user=secret["username"], password=secret["password"],
                               autocommit=True, connect_timeout=10)

    with conn(database, port) as migration:
        migration.execute("SELECT pg_advisory_lock(4242)")
        holder = None
        if holder_port:
            holder = conn(secret["database"], holder_port)
            holder.execute("BEGIN")
            holder.execute("SELECT 1")
        migration.execute("CREATE TABLE IF NOT EXISTS schema_history (version int)")
        migration.execute("INSERT INTO schema_history VALUES (1)")
        unlocked = migration.execute("SELECT pg_advisory_unlock(4242)").fetchone()[0]
        if holder:
            holder.execute("COMMIT")
            holder.close()
    return unlocked


def main():
    initdb, postgres, psql = tool("initdb"), tool("postgres"), tool("psql")
    tool("openssl")
    if not os.path.exists(LUMMO):
        print(f"pgbouncer-real: {LUMMO} is missing (make build)", file=sys.stderr)
        print("pgbouncer-real: 0 passed, 1 failed")
        return 1
    try:
        import asyncpg  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as error:
        print(f"pgbouncer-real: {error} (make deps)", file=sys.stderr)
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
    version = pinned_pgbouncer(deployment)
    documented_settings(version)
    pod = deployment["spec"]["template"]["spec"]
    figures = []

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
        pgbouncer = stage_pgbouncer(tmp)
        pg_port, bouncer_port = free_port(), free_port()
        with open(os.path.join(tmp, "pw"), "w") as f:
            f.write("superpass\n")
        os.chmod(os.path.join(tmp, "pw"), 0o644)
        out = run([initdb, "-D", f"{tmp}/pg/data", "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={tmp}/pw"])
        check("initdb", out.returncode == 0, out.stderr)
        certificates(f"{tmp}/pg")
        procs.append(subprocess.Popen([postgres, "-D", f"{tmp}/pg/data", "-p", str(pg_port), "-c", "listen_addresses=127.0.0.1",
                                       "-c", "ssl=on", "-c", f"ssl_cert_file={tmp}/pg/server.crt", "-c", f"ssl_key_file={tmp}/pg/server.key",
                                       "-c", "max_connections=200", "-c", f"unix_socket_directories={tmp}/pg"], preexec_fn=demote,
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

        def admin(sql, database="postgres"):
            return run([psql, "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                        "-At", "-c", sql], env={**os.environ, "PGPASSWORD": "superpass"})

        admin("CREATE ROLE app LOGIN PASSWORD 'first-password'")
        admin("CREATE DATABASE orders OWNER app")
        admin("CREATE TABLE load (driver text, client int, n int); ALTER TABLE load OWNER TO app", "orders")
        secret = {"host": "127.0.0.1", "port": str(pg_port), "database": "orders", "username": "app", "password": "first-password"}

        def start_pgbouncer(patch=lambda ini: ini):
            """The pod: the init container's script, then pgbouncer."""
            ini = config["data"]["pgbouncer.ini"].replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1").replace(
                "listen_port = 6432", f"listen_port = {bouncer_port}").replace("/etc/pgbouncer/", f"{tmp}/runtime/")
            with open(f"{tmp}/config/pgbouncer.ini", "w") as f:
                f.write(patch(ini))
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
            assert args[0] == "pgbouncer", args
            process = subprocess.Popen(pgbouncer + [args[1].replace("/etc/pgbouncer/", f"{tmp}/runtime/")], preexec_fn=demote,
                                       stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/pgbouncer.log", "a"))
            wait_port(bouncer_port)
            return process

        def stop(process):
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:  # SIGTERM waits for clients (1.23+); a second one is immediate
                process.terminate()
                process.wait(10)
            wait_closed(bouncer_port)

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

        # 5. Drivers under load through the transaction pool.
        drivers = (("psycopg 3 prepare_threshold=0", psycopg_load),
                   ("psycopg 3 prepare_threshold=5 (default)", lambda *a: psycopg_load(*a, prepare_threshold=5)),
                   ("asyncpg", asyncpg_load))
        for driver, load in drivers:
            for clients in CLIENTS:
                started = time.time()
                errors, first = load(bouncer_port, secret, clients)
                figures.append(f"{driver} × {clients} clients × {TRANSACTIONS} transactions: {errors} errors ({time.time() - started:.1f}s)")
                check(f"{driver}, {clients} clients: 0 errors", errors == 0, first or "")
        # The control: without prepared statement tracking the same load fails.
        stop(bouncer)
        control = start_pgbouncer(lambda ini: ini.replace("max_prepared_statements = 200", "max_prepared_statements = 0"))
        procs.append(control)
        errors, first = asyncpg_load(bouncer_port, secret, CLIENTS[-1])
        # psycopg meets a statement prepared on another server connection only
        # when the pool hands it one: scheduling decides, so up to three rounds
        # (asyncpg prepares on every connection and fails in the first).
        errors_psycopg, first_psycopg = 0, None
        for _ in range(3):
            more, first_more = psycopg_load(bouncer_port, secret, CLIENTS[-1])
            errors_psycopg += more
            first_psycopg = first_psycopg or first_more
            if errors_psycopg:
                break
        figures.append(f"control, max_prepared_statements = 0: asyncpg {errors} errors, psycopg {errors_psycopg} errors "
                       f"({(first or first_psycopg or '')[:70]})")
        check("control: the load fails without prepared statement tracking", errors > 0 and errors_psycopg > 0,
              f"asyncpg {errors}, psycopg {errors_psycopg} errors")
        stop(control)
        bouncer = start_pgbouncer()
        procs.append(bouncer)

        # 6. Migrations' advisory locks.
        session_db = f"{secret['database']}_session"
        assert f"${{DB_NAME}}_session = " in config["data"]["pgbouncer.ini"], "the generated session-mode database"
        unlocked = advisory_lock_migration(bouncer_port, secret, session_db, holder_port=bouncer_port)
        left = admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").stdout.strip()
        figures.append(f"migration through {session_db}: unlock {'held' if unlocked else 'NOT held'}, advisory locks left: {left}")
        check(f"migration through {session_db} leaves no advisory lock", unlocked and left == "0", f"unlock {unlocked}, left {left}")
        unlocked = advisory_lock_migration(bouncer_port, secret, secret["database"], holder_port=bouncer_port)
        left = admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").stdout.strip()
        figures.append(f"control, migration through the transaction pool: unlock {'held' if unlocked else 'NOT held'}, advisory locks left: {left}")
        check("control: through the transaction pool the lock is left behind", not unlocked and left != "0", f"unlock {unlocked}, left {left}")
        # The stray lock dies with its server connection: reconnect the pool.
        stop(bouncer)
        bouncer = start_pgbouncer()
        procs.append(bouncer)

        # 7. Drain: the generated preStop while a transaction is in flight.
        pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
        grace = pod["terminationGracePeriodSeconds"]
        drained = drain(bouncer, pre_stop, grace, bouncer_port, secret, admin)
        figures.append(drained)

        # 8. Rotation, as a static Vault secret rotates: the role's password changes,
        # VSO writes the Secret and restarts every rolloutRestartTarget.
        bouncer = start_pgbouncer()
        procs.append(bouncer)
        admin("ALTER ROLE app PASSWORD 'second-password'")
        old = secret["password"]
        secret["password"] = "second-password"
        stop(bouncer)
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

        # 10 (first, while the roles are simple). TLS to PostgreSQL, verify-full.
        tls_checks(by, tmp, pg_port, pgbouncer, secret, figures)

        # 9. Rotation without refusal: dynamic credentials, auth_query.
        dynamic = by[("VaultDynamicSecret", "orders-dynamic-pgbouncer")]
        targets = {(t["kind"], t["name"]) for t in dynamic["spec"]["rolloutRestartTargets"]}
        check("dynamic rotation restarts pgbouncer and the app", targets == {("Deployment", "orders-dynamic-pgbouncer"),
                                                                             ("argo.Rollout", "orders-worker")}, str(targets))
        admin("CREATE ROLE orders_app NOLOGIN")
        admin("GRANT CONNECT ON DATABASE orders TO orders_app")
        admin("GRANT INSERT, SELECT ON load TO orders_app", "orders")
        # The lookup the README asks the DBA for (pgbouncer's auth_query pattern): a
        # SECURITY DEFINER function over pg_shadow, callable by the app's group role.
        admin("CREATE SCHEMA pgbouncer; CREATE FUNCTION pgbouncer.user_lookup(i_username text, OUT uname text, OUT phash text) "
              "RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS "
              "$$ SELECT usename::text, passwd::text FROM pg_shadow WHERE usename = i_username $$; "
              "REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC; GRANT USAGE ON SCHEMA pgbouncer TO orders_app; "
              "GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO orders_app", "orders")
        stats = rotation(by, tmp, pg_port, admin, pgbouncer, "a", with_auth_query=True)
        figures.append(f"rotation (auth_query), 3 app pods every 100 ms across a staggered restart: {stats['attempts']} connections, "
                       f"{stats['refused']} refused, {stats['failed']} failed transactions")
        check("rotation with auth_query: 0 refused, 0 failed", stats["attempts"] > 100 and stats["refused"] == 0 and stats["failed"] == 0,
              f"{stats}")
        control = rotation(by, tmp, pg_port, admin, pgbouncer, "b", with_auth_query=False)
        figures.append(f"control, rotation with the auth file alone: {control['attempts']} connections, {control['refused']} refused "
                       f"({control['first'][:80]})")
        check("control: without auth_query pods not yet restarted are refused", control["refused"] > 0, f"{control}")
    finally:
        for process in reversed(procs):  # pgbouncers first: PostgreSQL's smart shutdown waits for their connections
            terminate(process)
        if not all(checks):
            for log in ("postgres.log", "pgbouncer.log"):
                path = os.path.join(tmp, log)
                if os.path.exists(path):
                    print(f"--- {log}\n{open(path).read()[-2000:]}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"pgbouncer-real: pgbouncer {version} ({PGBOUNCER_ROOT})")
    for figure in figures:
        print(f"pgbouncer-real: {figure}")
    passed = sum(checks)
    print(f"pgbouncer-real: {passed} passed, {len(checks) - passed} failed")
    return 0 if all(checks) else 1


def certificates(directory):
    """A CA, PostgreSQL's certificate signed by it (for the spec's host
    postgres.shop.internal and for 127.0.0.1, the address the test rewrites it to:
    verify-full checks the name pgbouncer connects to) and a second, unrelated CA."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ca}",
                "-keyout", f"{directory}/{ca}.key", "-out", f"{directory}/{ca}.crt")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=postgres.shop.internal",
            "-keyout", f"{directory}/server.key", "-out", f"{directory}/server.csr")
    with open(f"{directory}/san.ext", "w") as f:
        f.write("subjectAltName=DNS:postgres.shop.internal,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", f"{directory}/server.csr", "-CA", f"{directory}/ca.crt", "-CAkey", f"{directory}/ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{directory}/san.ext", "-out", f"{directory}/server.crt")
    os.chmod(f"{directory}/server.key", 0o600)
    if os.getuid() == 0:
        entry = pwd.getpwnam(USER)
        for name in os.listdir(directory):
            os.chown(os.path.join(directory, name), entry.pw_uid, entry.pw_gid)


def tls_checks(by, tmp, pg_port, pgbouncer, secret, figures):
    """The serverTls pgbouncer: its CA mounted from the Secret as the Deployment
    says; the app's session reaches PostgreSQL over TLS. With another CA in the
    Secret (the control) pgbouncer refuses PostgreSQL's certificate."""
    import psycopg

    name = "orders-tls-pgbouncer"
    deployment, config = by[("Deployment", name)], by[("ConfigMap", name)]
    pod = deployment["spec"]["template"]["spec"]
    ini_template = config["data"]["pgbouncer.ini"]
    ca_file = re.search(r"^server_tls_ca_file = (\S+)$", ini_template, re.M).group(1)
    mode = re.search(r"^server_tls_sslmode = (\S+)$", ini_template, re.M).group(1)
    volume = next(v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "postgres-ca")
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
    item = volume["secret"]["items"][0]
    check("the CA is mounted where server_tls_ca_file points", f"{mount['mountPath']}/{item['path']}" == ca_file, f"{mount} {item} {ca_file}")
    results = {}
    for ca in ("ca", "other-ca"):
        home = os.path.join(tmp, f"tls-{ca}")
        os.makedirs(f"{home}/runtime")
        shutil.copy(f"{tmp}/pg/{ca}.crt", f"{home}/ca.crt")  # the Secret's key, as the volume maps it
        if os.getuid() == 0:
            entry = pwd.getpwnam(USER)
            os.chown(f"{home}/runtime", entry.pw_uid, entry.pw_gid)
        port = free_port()
        ini = (ini_template.replace("host=postgres.shop.internal port=5432", f"host=127.0.0.1 port={pg_port}")
               .replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1").replace("listen_port = 6432", f"listen_port = {port}")
               .replace("/etc/pgbouncer/", f"{home}/runtime/").replace(ca_file, f"{home}/ca.crt"))
        with open(f"{home}/pgbouncer.ini", "w") as f:
            f.write(ini)
        log = f"{home}/pgbouncer.log"
        with open(f"{home}/runtime/userlist.txt", "w") as f:
            f.write(f'"{secret["username"]}" "{secret["password"]}"\n')
        process = subprocess.Popen(pgbouncer + [f"{home}/pgbouncer.ini"], preexec_fn=demote, stdout=subprocess.DEVNULL,
                                   stderr=open(log, "w"))
        try:
            wait_port(port)
            with psycopg.connect(host="127.0.0.1", port=port, dbname="orders", user=secret["username"], password=secret["password"],
                                 connect_timeout=4) as conn:
                results[ca] = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        except Exception as error:  # noqa: BLE001
            results[ca] = f"{type(error).__name__}: {str(error).splitlines()[0][:80]}"
        finally:
            process.send_signal(signal.SIGQUIT)  # immediate shutdown: the control's client may still wait for a server
            process.wait(10)
        if ca == "other-ca":
            refused = "certificate verify failed" in open(log).read()
    figures.append(f"server TLS {mode}: with the Secret's CA {results['ca']}; with another CA: {results['other-ca']}")
    check(f"server TLS {mode}: the app's session reaches PostgreSQL over TLS", isinstance(results["ca"], tuple) and results["ca"][0] is True,
          str(results["ca"]))
    check("control: with another CA pgbouncer refuses PostgreSQL's certificate", isinstance(results["other-ca"], str) and refused,
          f"{results['other-ca']}; `certificate verify failed` logged: {refused}")


class Service:
    """The pgbouncer Service: clients pick its ready endpoints round robin; an
    endpoint leaves when its pod starts terminating (the endpoints controller)."""

    def __init__(self):
        self.ports, self.next, self.lock = [], 0, threading.Lock()

    def add(self, port):
        with self.lock:
            self.ports.append(port)

    def remove(self, port):
        with self.lock:
            self.ports.remove(port)

    def pick(self):
        with self.lock:
            self.next += 1
            return self.ports[self.next % len(self.ports)]


def pre_stop_hook(process, pre_stop):
    """The generated preStop for a pgbouncer started here (PID 1 made its PID);
    returns the hook process. pgbouncer is this script's child, so a thread reaps
    it, or the hook's `kill -0` would see the zombie."""
    assert pre_stop[:2] == ["/bin/sh", "-c"], pre_stop
    script = pre_stop[2].replace("kill -INT 1", f"kill -INT {process.pid}").replace("kill -0 1", f"kill -0 {process.pid}")
    assert str(process.pid) in script, script
    threading.Thread(target=process.wait, daemon=True).start()
    return subprocess.Popen(["/bin/sh", "-c", script], preexec_fn=demote)


def rotation(by, tmp, pg_port, admin, pgbouncer, run_id, with_auth_query):
    """Dynamic Vault credentials rotate: Vault creates a new user (the old lease
    stays valid), VSO writes the Secret and restarts the rolloutRestartTargets: the
    pgbouncer Deployment rolls (maxSurge 1, maxUnavailable 0, the generated preStop)
    while the app's Rollout restarts its pods one at a time. App pods connect
    every 100 ms through the Service. Returns (attempts, refused, failed, first)."""
    import psycopg

    name = "orders-dynamic-pgbouncer"
    deployment, config = by[("Deployment", name)], by[("ConfigMap", name)]
    pod = deployment["spec"]["template"]["spec"]
    strategy = deployment["spec"]["strategy"]["rollingUpdate"]
    assert (strategy["maxSurge"], strategy["maxUnavailable"]) == (1, 0), strategy
    database = by[("LummoPgBouncer", name)]["spec"]["database"]
    ini_template = config["data"]["pgbouncer.ini"].replace(f"host={database['host']} port={database['port']}", f"host=127.0.0.1 port={pg_port}")
    if not with_auth_query:  # the control: the auth file alone
        ini_template = "".join(line for line in ini_template.splitlines(True) if not line.startswith(("auth_query", "auth_user")))
    users = [f"v-orders-worker-{run_id}-{n}" for n in (1, 2)]
    for n, user in enumerate(users):
        admin(f'CREATE ROLE "{user}" LOGIN PASSWORD \'lease-{run_id}-{n}\' IN ROLE orders_app')
    leases = [{"username": user, "password": f"lease-{run_id}-{n}"} for n, user in enumerate(users)]
    pods = iter(range(100))

    def start(secret):
        """A pgbouncer pod: its init container's script, then pgbouncer."""
        n = next(pods)
        home = os.path.join(tmp, f"rotation-{run_id}-{n}")
        for sub in ("config", "runtime"):
            os.makedirs(os.path.join(home, sub))
            if os.getuid() == 0:
                entry = pwd.getpwnam(USER)
                os.chown(os.path.join(home, sub), entry.pw_uid, entry.pw_gid)
        port = free_port()
        ini = ini_template.replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1").replace(
            "listen_port = 6432", f"listen_port = {port}").replace("/etc/pgbouncer/", f"{home}/runtime/")
        with open(f"{home}/config/pgbouncer.ini", "w") as f:
            f.write(ini)
        init = pod["initContainers"][0]
        env = {"PATH": os.environ["PATH"]}
        for var in init["env"]:
            env[var["name"]] = secret[var["valueFrom"]["secretKeyRef"]["key"]]
        script = init["command"][2].replace("/config/", f"{home}/config/").replace("/etc/pgbouncer/", f"{home}/runtime/")
        assert run(["/bin/sh", "-c", script], env=env).returncode == 0
        process = subprocess.Popen(pgbouncer + [f"{home}/runtime/pgbouncer.ini"], preexec_fn=demote,
                                   stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/pgbouncer.log", "a"))
        wait_port(port)
        return process, port

    service = Service()
    running = [start(leases[0]), start(leases[0])]
    for _, port in running:
        service.add(port)
    stats = {"attempts": 0, "refused": 0, "failed": 0, "first": ""}
    lock, stop = threading.Lock(), threading.Event()
    app_pods = [dict(leases[0]) for _ in range(3)]

    def app(me):
        while not stop.is_set():
            started = time.time()
            creds = dict(app_pods[me])
            stage = "connect"
            try:
                with psycopg.connect(host="127.0.0.1", port=service.pick(), dbname="orders", user=creds["username"],
                                     password=creds["password"], connect_timeout=5) as conn:
                    stage = "transaction"
                    with conn.transaction():
                        conn.execute("INSERT INTO load (driver, client, n) VALUES (%s, %s, %s)", (f"rotation-{run_id}", me, 0))
                with lock:
                    stats["attempts"] += 1
            except Exception as error:  # noqa: BLE001
                with lock:
                    stats["attempts"] += 1
                    stats["refused" if stage == "connect" else "failed"] += 1
                    stats["first"] = stats["first"] or f"{creds['username']}: {error}"
            stop.wait(max(0.0, 0.1 - (time.time() - started)))

    clients = [threading.Thread(target=app, args=(n,)) for n in range(len(app_pods))]
    for t in clients:
        t.start()
    time.sleep(1)
    # Rotation: the Secret now holds the new lease; VSO restarts both targets.

    def app_rollout():
        for n in range(len(app_pods)):
            time.sleep(1.5)
            app_pods[n] = dict(leases[1])

    rollout = threading.Thread(target=app_rollout)
    rollout.start()
    hooks = []
    for old_process, old_port in list(running):
        process, port = start(leases[1])  # maxSurge 1: the new pod first, ready
        service.add(port)
        service.remove(old_port)  # then the old one terminates: out of the endpoints, preStop
        hooks.append((pre_stop_hook(old_process, pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]), old_process))
        running.append((process, port))
    grace = pod["terminationGracePeriodSeconds"]
    for hook, process in hooks:
        hook.wait(grace)
    rollout.join()
    time.sleep(1)
    stop.set()
    for t in clients:
        t.join(10)
    for process, _ in running:
        terminate(process)
    return stats


def drain(bouncer, pre_stop, grace, port, secret, admin):
    """The preStop (its PID 1 made pgbouncer's PID) runs while a transaction is in
    flight: the transaction commits, pgbouncer exits within the grace period."""
    import psycopg

    assert pre_stop[:2] == ["/bin/sh", "-c"], pre_stop
    script = pre_stop[2].replace("kill -INT 1", f"kill -INT {bouncer.pid}").replace("kill -0 1", f"kill -0 {bouncer.pid}")
    assert str(bouncer.pid) in script, script
    delay = float(re.match(r"sleep (\d+)", script).group(1))
    conn = psycopg.connect(host="127.0.0.1", port=port, dbname=secret["database"], user=secret["username"],
                           password=secret["password"], prepare_threshold=0, connect_timeout=10)
    started = time.time()
    # The kubelet's part: a container ends when its PID 1 exits. Here pgbouncer is
    # this script's child, so it must be reaped, or the hook's `kill -0` sees the
    # zombie and keeps waiting.
    reaper = threading.Thread(target=bouncer.wait, daemon=True)
    reaper.start()
    hook = subprocess.Popen(["/bin/sh", "-c", script], preexec_fn=demote)
    committed, error = False, ""
    try:
        time.sleep(max(delay - 1.0, 0))
        with conn.transaction():  # in flight when SIGINT arrives (at `delay`)
            conn.execute("INSERT INTO load (driver, client, n) VALUES ('drain', 0, 0)")
            conn.execute("SELECT pg_sleep(3)")
        committed = True
    except Exception as err:  # noqa: BLE001
        error = f"{type(err).__name__}: {err}"
    finally:
        conn.close()
    try:
        hook.wait(grace)
        reaper.join(1)
        exited = bouncer.poll() is not None
    except subprocess.TimeoutExpired:
        exited = False
    took = time.time() - started
    rows = admin("SELECT count(*) FROM load WHERE driver = 'drain'", "orders").stdout.strip()
    check("drain: the transaction in flight at SIGINT commits", committed and rows == "1", f"{error}; rows {rows}")
    check(f"drain: pgbouncer exits within the grace period ({grace}s)", exited and took < grace, f"{took:.1f}s")
    wait_closed(port)
    return f"drain: 1 transaction in flight, {0 if committed else 1} broken; pgbouncer gone after {took:.1f}s of {grace}s"


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
