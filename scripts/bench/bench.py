#!/usr/bin/env python3
"""The measurements of scripts/bench.sh (issue 6, "Fast and hardened"). Run by bench.sh, which
builds s3doctor, starts and seeds the emulator and passes everything in:

  bench.py --bin PATH --endpoint URL --keys-file PATH --work-dir DIR --venv DIR --runs N
           [--json FILE] [--build-seconds S] [--build-state TEXT]
           [--latency-url URL --latency-ms N --latency-events FILE] [--peer moto|rgw] [--role]

With --latency-url (scripts/bench.sh --latency) it measures instead, in the same rounds, the
contenders that matter at real distance both on loopback and through the latency proxy
(scripts/bench/latency_proxy.py, every request held N ms): s3doctor on 1 and on 20 buckets and
the boto3 script on 1, plus the round trips on s3doctor's critical path (from --log), its AWS
calls and the connections it opens (on HTTPS, each is a TLS handshake). --peer names the server
behind --endpoint: moto (the default; one request at a time) or rgw (Ceph RGW, which answers
requests in parallel; no STS there, so the boto3 script asks who it is with ListBuckets).
With --role (latency mode, moto) s3doctor on 1 bucket also runs with --role-arn (the role from
the keys file's BENCH_ROLE_ARN, which trusts the benchmark user) in the same rounds: its
AssumeRole must be the one round trip it adds in front of the checklist (issue 19).

The benchmark user's keys are read from --keys-file (dotenv lines, mode 600) and given to the
programs under test through their environment only; they are never printed. The table goes to
standard output, progress to standard error, the figures as JSON to --json FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

BUCKET = "bench-01"
PEERS = {"moto": "moto server (one request at a time)", "rgw": "Ceph RGW (requests in parallel)"}
ALL_BUCKETS = [f"bench-{i:02d}" for i in range(1, 21)]
GOAL_VS_BOTO3 = 1 / 4
GOAL_VS_CLI = 1 / 30
WIZARD_RUNS = 5
WIZARD_TITLE = "S3 access check"
WIZARD_DEADLINE_S = 30.0


def say(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def read_keys(path: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            keys[name.strip()] = value.strip()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if not keys.get(name):
            raise BenchError(f"{path} has no {name}")
    return keys


def clean_env(work: Path, keys: dict[str, str] | None) -> dict[str, str]:
    """The parent environment without any AWS_* or peer-admin variable, plus the private AWS
    config/credentials files and (when given) the benchmark user's keys."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and not k.startswith("S3DOCTOR_PEER_ADMIN_")
    }
    env["AWS_CONFIG_FILE"] = str(work / "aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(work / "aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_PAGER"] = ""
    env["NO_COLOR"] = "1"
    if keys is not None:
        env["AWS_ACCESS_KEY_ID"] = keys["AWS_ACCESS_KEY_ID"]
        env["AWS_SECRET_ACCESS_KEY"] = keys["AWS_SECRET_ACCESS_KEY"]
        env["AWS_REGION"] = keys.get("AWS_REGION", "us-east-1")
        env["AWS_DEFAULT_REGION"] = env["AWS_REGION"]
    return env


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.bin = str(Path(args.bin).resolve())
        self.url = args.endpoint
        self.work = Path(args.work_dir)
        self.venv = Path(args.venv)
        self.python = str(self.venv / "bin" / "python")
        self.aws = str(self.venv / "bin" / "aws")
        self.runbook = str(Path(__file__).resolve().parent / "runbook_check.py")
        self.keys = read_keys(args.keys_file)
        self.env = clean_env(self.work, self.keys)
        self.secrets = [self.keys["AWS_SECRET_ACCESS_KEY"], self.keys["AWS_ACCESS_KEY_ID"]]
        self.leaks: list[str] = []
        self.body = self.work / "put-body.txt"
        self.body.write_text("runbook check\n")
        self.got = self.work / "get-object.out"

    # ---- one run of each contender -------------------------------------------------------

    def scan(self, what: str, *texts: str) -> None:
        """Remember (without printing it) when a secret or the full key id shows up."""
        for text in texts:
            for s in self.secrets:
                if s and s in text:
                    kind = "secret key" if s == self.secrets[0] else "full access key id"
                    self.leaks.append(f"{kind} in {what}")

    def s3doctor_cmd(
        self, buckets: list[str], extra: list[str] | None = None, url: str | None = None
    ) -> list[str]:
        cmd = [self.bin, "check"]
        for b in buckets:
            cmd += ["--bucket", b]
        cmd += ["--endpoint-url", url or self.url, "--format", "json"]
        if self.args.key:
            cmd += ["--key", self.args.key]
        return cmd + (extra or [])

    def run_s3doctor(
        self, buckets: list[str], extra: list[str] | None = None, url: str | None = None
    ) -> tuple[float, str]:
        cmd = self.s3doctor_cmd(buckets, extra, url)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t0
        self.scan("s3doctor output", p.stdout, p.stderr)
        if p.returncode != 0:
            raise BenchError(
                f"s3doctor check ({len(buckets)} bucket(s)) exited {p.returncode}; stderr:\n"
                + p.stderr
                + ("\nstdout (report):\n" + p.stdout if p.stdout else "")
            )
        return elapsed, p.stdout

    def run_boto3(self, url: str | None = None) -> float:
        cmd = [self.python, self.runbook, "--endpoint", url or self.url, "--bucket", BUCKET]
        if self.args.peer == "rgw":
            cmd += ["--identity", "list-buckets"]
        if self.args.head_refused:
            cmd += ["--head-refused"]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t0
        if p.returncode != 0:
            raise BenchError(f"runbook_check.py exited {p.returncode}; stderr:\n{p.stderr}")
        return elapsed

    def cli_steps(self) -> list[list[str]]:
        key = f".runbook/cli-{uuid.uuid4()}"
        base = [self.aws, "--endpoint-url", self.url]
        return [
            base + ["sts", "get-caller-identity"],
            base + ["s3api", "head-bucket", "--bucket", BUCKET],
            base + ["s3api", "list-objects-v2", "--bucket", BUCKET, "--max-keys", "1"],
            base + ["s3api", "put-object", "--bucket", BUCKET, "--key", key, "--body", str(self.body)],
            base + ["s3api", "get-object", "--bucket", BUCKET, "--key", key, str(self.got)],
            base + ["s3api", "delete-object", "--bucket", BUCKET, "--key", key],
        ]

    def run_cli(self) -> float:
        steps = self.cli_steps()
        t0 = time.perf_counter()
        for cmd in steps:
            p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if p.returncode != 0:
                raise BenchError(f"`aws {' '.join(cmd[3:5])}` exited {p.returncode}; stderr:\n{p.stderr}")
        return time.perf_counter() - t0

    # ---- the comparison --------------------------------------------------------------------

    def compare(self) -> dict:
        n = self.args.runs
        say(f"warm-up: one untimed run of each (s3doctor, boto3 script, AWS CLI, s3doctor x20)")
        _, report = self.run_s3doctor([BUCKET])
        self.run_boto3()
        self.run_cli()
        self.run_s3doctor(ALL_BUCKETS)
        times: dict[str, list[float]] = {"s3doctor": [], "boto3": [], "cli": [], "s3doctor_20": []}
        for i in range(n):
            say(f"round {i + 1}/{n}: s3doctor, boto3 script, AWS CLI (6 processes), s3doctor x20 buckets")
            times["s3doctor"].append(self.run_s3doctor([BUCKET])[0])
            times["boto3"].append(self.run_boto3())
            times["cli"].append(self.run_cli())
            times["s3doctor_20"].append(self.run_s3doctor(ALL_BUCKETS)[0])
        return {"times": times, "report": report}

    # ---- the other figures ---------------------------------------------------------------

    def peak_rss_kib(self, buckets: list[str]) -> tuple[int, str]:
        cmd = self.s3doctor_cmd(buckets)
        time_bin = shutil.which("time", path="/usr/bin:/bin")
        if time_bin:
            probe = subprocess.run([time_bin, "-f", "%M", "true"], capture_output=True, text=True)
            if probe.returncode == 0 and probe.stderr.strip().isdigit():
                out = self.work / "rss.txt"
                p = subprocess.run(
                    [time_bin, "-f", "%M", "-o", str(out), *cmd],
                    env=self.env,
                    capture_output=True,
                    text=True,
                    stdin=subprocess.DEVNULL,
                )
                self.scan("s3doctor output", p.stdout, p.stderr)
                if p.returncode != 0:
                    raise BenchError(f"s3doctor (under {time_bin}) exited {p.returncode}:\n{p.stderr}")
                return int(out.read_text().split()[-1]), f"{time_bin} -f %M"
        # No GNU time: a fresh python whose only child is s3doctor reports the children's
        # maximum RSS (ru_maxrss, KiB on Linux).
        code = (
            "import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        p = subprocess.run([sys.executable, "-c", code, *cmd], env=self.env, capture_output=True, text=True)
        rc, rss = p.stdout.split()
        if rc != "0":
            raise BenchError(f"s3doctor exited {rc} while measuring its RSS")
        return int(rss), "getrusage(RUSAGE_CHILDREN).ru_maxrss"

    def aws_calls(
        self, buckets: list[str], name: str, url: str | None = None, extra: list[str] | None = None
    ) -> dict:
        log = self.work / f"s3doctor-{name}.log"
        if log.exists():
            log.unlink()
        self.run_s3doctor(buckets, ["--log", str(log)] + (extra or []), url)
        text = log.read_text(errors="replace") if log.exists() else ""
        self.scan("the --log file", text)
        lines = [l for l in text.splitlines() if "AWS call" in l]
        self.last_log_lines = lines
        built = [l for l in text.splitlines() if "AWS client built" in l]
        by_op: dict[str, int] = {}
        for l in lines:
            m = re.search(r'operation="?([A-Za-z0-9]+)', l)
            op = m.group(1) if m else "?"
            if "without an answer" in l:
                op += " (no answer)"
            by_op[op] = by_op.get(op, 0) + 1
        statuses: dict[str, int] = {}
        for l in lines:
            m = re.search(r"status=(\d+)", l)
            s = m.group(1) if m else "none"
            statuses[s] = statuses.get(s, 0) + 1
        clients: dict[str, int] = {}
        for l in built:
            m = re.search(r'service="?([A-Za-z0-9]+)', l)
            svc = m.group(1) if m else "?"
            clients[svc] = clients.get(svc, 0) + 1
        return {
            "total": len(lines),
            "by_operation": dict(sorted(by_op.items())),
            "by_status": statuses,
            # SDK clients built in the run (binaries before issue 14's last round do not log it)
            "clients_built": {"total": len(built), "by_service": dict(sorted(clients.items()))},
        }

    def wizard_first_frame(self, command: str, label: str) -> list[float]:
        if not shutil.which("tmux"):
            raise BenchError("tmux is not installed")
        results = []
        for i in range(WIZARD_RUNS):
            sock = f"bench{os.getpid()}{label}{i}"
            t0 = time.perf_counter()
            subprocess.run(
                ["tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30", command],
                env=self.env,
                check=True,
                cwd=self.work,
            )
            screen = ""
            try:
                while True:
                    p = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True)
                    screen = p.stdout
                    if WIZARD_TITLE in screen:
                        results.append(time.perf_counter() - t0)
                        break
                    if time.perf_counter() - t0 > WIZARD_DEADLINE_S:
                        raise BenchError(
                            f"no '{WIZARD_TITLE}' on screen within {WIZARD_DEADLINE_S:.0f} s ({label}); screen:\n{screen}"
                        )
                    time.sleep(0.010)
            finally:
                subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
            self.scan("the wizard's screen", screen)
        return results


LOG_LINE = re.compile(r"^(\S+)Z .*?latency_ms=(\d+)")


def critical_path(lines: list[str]) -> dict:
    """The longest chain of AWS calls of one run that stood one after the other (each began
    after the one before it had ended), from the --log lines: each line is written when its
    call ends and carries its latency, so a call spans [end - latency, end]."""
    from datetime import datetime

    spans = []
    for l in lines:
        m = LOG_LINE.search(l)
        op = re.search(r'operation="?([A-Za-z0-9]+)', l)
        if not m:
            continue
        end = datetime.fromisoformat(m.group(1)).timestamp()
        spans.append((end - int(m.group(2)) / 1000.0, end, op.group(1) if op else "?"))
    spans.sort(key=lambda s: s[1])
    slack = 0.002  # the log's clock and the latency's rounding
    best: list[tuple[int, list[str]]] = []
    for i, (start, _end, op) in enumerate(spans):
        chain = max(
            (best[j] for j in range(i) if spans[j][1] <= start + slack),
            key=lambda c: c[0],
            default=(0, []),
        )
        best.append((chain[0] + 1, chain[1] + [op]))
    length, ops = max(best, key=lambda c: c[0], default=(0, []))
    return {"round_trips": length, "chain": ops}


class Events:
    """The latency proxy's event file: what arrived since the last look."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_last(self) -> list[dict]:
        with self.path.open() as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        return [json.loads(l) for l in text.splitlines() if l.strip()]


def connections(events: list[dict]) -> dict:
    """Connections opened, in all and by the service of their first request (S3, STS and IAM
    are three hosts on AWS: one TLS handshake each is the floor)."""
    first: dict[int, str] = {}
    for e in events:
        if e.get("kind") == "request":
            first.setdefault(e["conn"], e["service"])
    opened = [e["conn"] for e in events if e.get("kind") == "connection"]
    by_service: dict[str, int] = {}
    for c in opened:
        svc = first.get(c, "none")
        by_service[svc] = by_service.get(svc, 0) + 1
    requests = sum(1 for e in events if e.get("kind") == "request")
    return {"connections": len(opened), "by_service": dict(sorted(by_service.items())), "requests": requests}


def latency_mode(b: "Bench", args: argparse.Namespace) -> int:
    """Loopback and N ms per request, in the same rounds: s3doctor x1, x20, boto3 x1."""
    far = args.latency_url
    delay = args.latency_ms
    n = args.runs
    events = Events(args.latency_events)
    say("warm-up: one untimed run of each, on loopback and through the latency proxy")
    for url in (None, far):
        b.run_s3doctor([BUCKET], url=url)
        b.run_s3doctor(ALL_BUCKETS, url=url)
        b.run_boto3(url)
    role = role_args(b, args)
    if role:
        for url in (None, far):
            b.run_s3doctor([BUCKET], role, url=url)
    keys = ["near_1", "near_20", "near_boto3", "far_1", "far_20", "far_boto3"]
    keys += ["near_role", "far_role"] if role else []
    times: dict[str, list[float]] = {k: [] for k in keys}
    loads: list[float] = []
    for i in range(n):
        say(f"round {i + 1}/{n}: s3doctor x1, x20, boto3 script{', x1 --role-arn' if role else ''}; loopback then {delay:g} ms per request")
        loads.append(os.getloadavg()[0])
        for url, tag in ((None, "near"), (far, "far")):
            times[f"{tag}_1"].append(b.run_s3doctor([BUCKET], url=url)[0])
            times[f"{tag}_20"].append(b.run_s3doctor(ALL_BUCKETS, url=url)[0])
            times[f"{tag}_boto3"].append(b.run_boto3(url))
            if role:
                times[f"{tag}_role"].append(b.run_s3doctor([BUCKET], role, url=url)[0])
    say("AWS calls, critical path and connections of one run through the proxy (--log)")
    events.since_last()
    calls1 = b.aws_calls([BUCKET], "far-1", far)
    path1 = critical_path(b.last_log_lines)
    conns1 = connections(events.since_last())
    calls20 = b.aws_calls(ALL_BUCKETS, "far-20", far)
    path20 = critical_path(b.last_log_lines)
    conns20 = connections(events.since_last())
    b.run_boto3(far)
    conns_boto3 = connections(events.since_last())
    role_figures = role_path(b, role, far, path1) if role else None
    vpce_figures = vpce_path(b, far) if args.vpce else None

    med = {k: statistics.median(v) for k, v in times.items()}
    results = {
        "schema": "s3doctor.bench-latency/v1",
        "peer": args.peer,
        "key": args.key,
        "head_refused": args.head_refused,
        "runs": n,
        "delay_ms": delay,
        "load_average_1min": {"median": round(statistics.median(loads), 2), "min": min(loads), "max": max(loads)},
        "times": {k: summary(v) for k, v in times.items()},
        "ratios": {
            "near_s3doctor_boto3": round(med["near_1"] / med["near_boto3"], 4),
            "far_s3doctor_boto3": round(med["far_1"] / med["far_boto3"], 4),
            "near_20_vs_1": round(med["near_20"] / med["near_1"], 2),
            "far_20_vs_1": round(med["far_20"] / med["far_1"], 2),
        },
        "goals_at_50ms": {
            "bucket_1_max_s": 0.22,
            "ratio_20_vs_1_max": 1.3,
            "pass_1": med["far_1"] <= 0.22,
            "pass_20": med["far_20"] / med["far_1"] <= 1.3,
        },
        "critical_path": {"bucket_1": path1, "buckets_20": path20},
        "aws_calls": {"bucket_1": calls1, "buckets_20": calls20},
        "connections": {"bucket_1": conns1, "buckets_20": conns20, "boto3_1": conns_boto3},
        "role": role_figures,
        "vpce": vpce_figures,
        "secrets_seen_in_output": sorted(set(b.leaks)),
    }

    def row(label: str, value: str) -> None:
        print(f"  {label:<46} {value}")

    def fig(key: str) -> str:
        t = results["times"][key]
        return f"{t['median_ms']:>8.1f} ms  ({t['min_ms']:.1f}..{t['max_ms']:.1f})"

    r = results["ratios"]
    print()
    with_key = f"  --key {args.key}" if args.key else ""
    print(f"s3doctor latency benchmark (issue 14)  runs={n}  delay={delay:g} ms per request  peer={PEERS[args.peer]}{with_key}")
    if args.head_refused:
        print("  HeadBucket refused: the bucket's region comes from GetBucketLocation")
    la = results["load_average_1min"]
    print(f"  1-min load average during the rounds: median {la['median']} ({la['min']:.2f}..{la['max']:.2f})")
    print()
    print("                                                   median     (min..max)")
    row("loopback: s3doctor, 1 bucket", fig("near_1"))
    row("loopback: s3doctor, 20 buckets", fig("near_20"))
    row("loopback: boto3 runbook script, 1 bucket", fig("near_boto3"))
    row("loopback: s3doctor / boto3", f"{r['near_s3doctor_boto3']:.3f}  (1/{1 / r['near_s3doctor_boto3']:.1f})")
    print()
    row(f"{delay:g} ms: s3doctor, 1 bucket", fig("far_1"))
    row(f"{delay:g} ms: s3doctor, 20 buckets", fig("far_20"))
    row(f"{delay:g} ms: boto3 runbook script, 1 bucket", fig("far_boto3"))
    row(f"{delay:g} ms: s3doctor / boto3", f"{r['far_s3doctor_boto3']:.3f}  (1/{1 / r['far_s3doctor_boto3']:.1f})")
    row(f"{delay:g} ms: 20 buckets / 1 bucket", f"{r['far_20_vs_1']:.2f}x")
    if delay == 50:
        g = results["goals_at_50ms"]
        row("goal: 1 bucket <= 0.22 s at 50 ms", "PASS" if g["pass_1"] else "MISS")
        row("goal: 20 buckets <= 1.3x one bucket", "PASS" if g["pass_20"] else "MISS")
    print()
    row("round trips in a row, 1 bucket", f"{path1['round_trips']}  ({' -> '.join(path1['chain'])})")
    row("round trips in a row, 20 buckets", f"{path20['round_trips']}")
    row("AWS calls, 1 / 20 buckets", f"{calls1['total']} / {calls20['total']}  {calls1['by_operation']}")
    for label, calls in (("1 bucket", calls1), ("20 buckets", calls20)):
        cb = calls["clients_built"]
        row(f"SDK clients built, {label}", f"{cb['total']}  {cb['by_service']}" if cb["total"] else "(not logged by this binary)")
    row("connections (TLS handshakes on HTTPS), 1 bucket", f"{conns1['connections']}  {conns1['by_service']}")
    row("connections, 20 buckets", f"{conns20['connections']}  {conns20['by_service']}")
    row("connections, boto3 script", f"{conns_boto3['connections']}  {conns_boto3['by_service']}")
    if role_figures:
        print()
        row("loopback: s3doctor --role-arn, 1 bucket", fig("near_role"))
        row(f"{delay:g} ms: s3doctor --role-arn, 1 bucket", fig("far_role"))
        added = results["times"]["far_role"]["median_ms"] - results["times"]["far_1"]["median_ms"]
        row(f"{delay:g} ms: --role-arn adds (medians)", f"{added:+.1f} ms")
        rp = role_figures["critical_path"]
        row("round trips in a row, 1 bucket, --role-arn", f"{rp['round_trips']}  ({' -> '.join(rp['chain'])})")
        row("AWS calls, 1 bucket, --role-arn", f"{role_figures['aws_calls']['total']}  {role_figures['aws_calls']['by_operation']}")
        row("goal: --role-arn adds exactly one round trip, the AssumeRole", "PASS" if role_figures["one_more"] else "MISS")
    if vpce_figures:
        print()
        for label, key in (("--admin-profile", "admin"), ("--admin-profile --vpce", "vpce")):
            p = vpce_figures[key]["critical_path"]
            row(f"round trips in a row, 1 bucket, {label}", f"{p['round_trips']}  ({' -> '.join(p['chain'])})")
            calls = vpce_figures[key]["aws_calls"]
            row(f"AWS calls, 1 bucket, {label}", f"{calls['total']}  {calls['by_operation']}")
        row("goal: --vpce adds no round trip in a row", "PASS" if vpce_figures["none_added"] else "MISS")
    row("secrets seen in any output/log", ", ".join(results["secrets_seen_in_output"]) or "none")
    print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        say(f"figures written to {args.json}")
    return 0


def role_args(b: "Bench", args: argparse.Namespace) -> list[str]:
    """`--role-arn ARN` for bench.sh --role (the seeded role's ARN from the keys file)."""
    if not args.role:
        return []
    arn = b.keys.get("BENCH_ROLE_ARN")
    if not arn:
        raise BenchError("--role: the keys file has no BENCH_ROLE_ARN (seed_bench.py --role)")
    return ["--role-arn", arn]


def role_path(b: "Bench", role: list[str], far: str, path1: dict) -> dict:
    """One --role-arn run through the proxy: its AWS calls and critical path, and whether the
    AssumeRole is the one round trip it adds in front of the plain run's chain."""
    calls = b.aws_calls([BUCKET], "far-role", far, role)
    path = critical_path(b.last_log_lines)
    one_more = (
        path["round_trips"] == path1["round_trips"] + 1
        and path["chain"][:1] == ["AssumeRole"]
        and calls["by_operation"].get("AssumeRole") == 1
    )
    return {"critical_path": path, "aws_calls": calls, "one_more": one_more}


def vpce_path(b: "Bench", far: str) -> dict:
    """One run with --admin-profile and one with it and --vpce, through the proxy: their AWS
    calls and critical paths, and whether the endpoint's DescribeVpcEndpoints (read beside the
    first calls) leaves the number of round trips in a row as it is."""
    vpce = b.keys.get("BENCH_VPCE")
    admin_id, admin_secret = b.keys.get("BENCH_ADMIN_KEY_ID"), b.keys.get("BENCH_ADMIN_SECRET")
    if not (vpce and admin_id and admin_secret):
        raise BenchError("--vpce: the keys file has no BENCH_VPCE / admin keys (seed_bench.py --vpce)")
    b.secrets += [admin_secret, admin_id]
    # bench.sh made both files (mode 600, in its private work dir): the profile is added.
    with (b.work / "aws-credentials").open("a") as f:
        f.write(f"[bench-admin]\naws_access_key_id = {admin_id}\naws_secret_access_key = {admin_secret}\n")
    with (b.work / "aws-config").open("a") as f:
        f.write("[profile bench-admin]\nregion = us-east-1\n")
    figures = {}
    for key, extra in (("admin", []), ("vpce", ["--vpce", vpce])):
        args = ["--admin-profile", "bench-admin", *extra]
        b.run_s3doctor([BUCKET], args, url=far)  # warm-up
        calls = b.aws_calls([BUCKET], f"far-{key}", far, args)
        figures[key] = {"critical_path": critical_path(b.last_log_lines), "aws_calls": calls}
    figures["none_added"] = (
        figures["vpce"]["critical_path"]["round_trips"] == figures["admin"]["critical_path"]["round_trips"]
        and figures["vpce"]["aws_calls"]["by_operation"].get("DescribeVpcEndpoints") == 1
    )
    return figures


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more: connections are refused at once
    return port


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(values: list[float]) -> dict:
    return {
        "median_ms": ms(statistics.median(values)),
        "min_ms": ms(min(values)),
        "max_ms": ms(max(values)),
        "runs": len(values),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--keys-file", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--venv", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json")
    parser.add_argument("--build-seconds", type=float)
    parser.add_argument("--build-state", default="")
    parser.add_argument("--latency-url")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--latency-events")
    parser.add_argument("--peer", choices=sorted(PEERS), default="moto")
    parser.add_argument("--key", help="every s3doctor run also reads this object (--key)")
    parser.add_argument("--head-refused", action="store_true")
    parser.add_argument("--role", action="store_true", help="also s3doctor with --role-arn (latency mode)")
    parser.add_argument("--vpce", action="store_true", help="also s3doctor with --admin-profile and --vpce (latency mode)")
    args = parser.parse_args()

    if args.latency_url:
        try:
            return latency_mode(Bench(args), args)
        except BenchError as err:
            print(f"bench: {err}", file=sys.stderr)
            return 1
    try:
        b = Bench(args)
        cmp = b.compare()
        times = cmp["times"]
        try:
            report = json.loads(cmp["report"])
        except json.JSONDecodeError:
            report = {}

        say("peak RSS of one s3doctor run (1 bucket, then 20)")
        rss1, rss_how = b.peak_rss_kib([BUCKET])
        rss20, _ = b.peak_rss_kib(ALL_BUCKETS)

        say("AWS calls of one run (--log)")
        calls1 = b.aws_calls([BUCKET], "1")
        calls20 = b.aws_calls(ALL_BUCKETS, "20")

        port = closed_port()
        say(f"wizard: time to first frame in tmux, endpoint http://127.0.0.1:{port} (closed), {WIZARD_RUNS} runs")
        wizard_cmd = f"exec {b.bin} --bucket {BUCKET} --endpoint-url http://127.0.0.1:{port}"
        wizard = b.wizard_first_frame(wizard_cmd, "w")
        say(f"tmux alone: time until a shell prints '{WIZARD_TITLE}', {WIZARD_RUNS} runs (the overhead)")
        baseline = b.wizard_first_frame(f"printf '%s\\n' '{WIZARD_TITLE}'; exec sleep 600", "t")
    except BenchError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 1

    med = {k: statistics.median(v) for k, v in times.items()}
    r_boto3 = med["s3doctor"] / med["boto3"]
    r_cli = med["s3doctor"] / med["cli"]
    r_20 = med["s3doctor_20"] / med["s3doctor"]
    size = os.path.getsize(b.bin)

    steps = [
        f"{s.get('id')}{'@' + s['bucket'] if s.get('bucket') else ''}={s.get('status')}"
        for s in report.get("steps", [])
    ]
    results = {
        "schema": "s3doctor.bench/v1",
        "runs": args.runs,
        "build": {"seconds": args.build_seconds, "state": args.build_state},
        "binary": {"path": b.bin, "bytes": size, "mib": round(size / 1048576, 2)},
        "checklist_1_bucket": {
            "s3doctor": summary(times["s3doctor"]),
            "boto3_script": summary(times["boto3"]),
            "aws_cli": summary(times["cli"]),
            "ratio_s3doctor_boto3": round(r_boto3, 4),
            "ratio_s3doctor_cli": round(r_cli, 4),
            "goal_s3doctor_boto3": GOAL_VS_BOTO3,
            "goal_s3doctor_cli": round(GOAL_VS_CLI, 4),
            "pass_boto3": r_boto3 <= GOAL_VS_BOTO3,
            "pass_cli": r_cli <= GOAL_VS_CLI,
            "s3doctor_steps": steps,
        },
        "buckets_20": {
            "s3doctor": summary(times["s3doctor_20"]),
            "ratio_20_vs_1": round(r_20, 2),
        },
        "peak_rss_kib": {"bucket_1": rss1, "buckets_20": rss20, "how": rss_how},
        "aws_calls": {"bucket_1": calls1, "buckets_20": calls20},
        "wizard_first_frame": {
            "s3doctor": summary(wizard),
            "tmux_shell_baseline": summary(baseline),
            "endpoint": "closed loopback port",
            "note": "from `tmux new-session` to the title in capture-pane (10 ms polls); includes tmux start-up",
        },
        "secrets_seen_in_output": sorted(set(b.leaks)),
    }

    def row(label: str, value: str) -> None:
        print(f"  {label:<44} {value}")

    def word(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    c = results["checklist_1_bucket"]
    print()
    print(f"s3doctor benchmark (issue 6)  runs={args.runs}  endpoint=moto {b.url}")
    print()
    if args.build_seconds is not None:
        row("build time (cargo build --release)", f"{args.build_seconds:.1f} s  ({args.build_state})")
    row("release binary size", f"{size} bytes ({size / 1048576:.2f} MiB)")
    print()
    print("  healthy checklist on bench-01                 median     (min..max)")
    for label, key in (
        ("(a) s3doctor check --format json", "s3doctor"),
        ("(b) boto3 runbook script (fresh python)", "boto3_script"),
        ("(c) AWS CLI, 6 `aws` processes", "aws_cli"),
    ):
        s = c[key]
        row(label, f"{s['median_ms']:>8.1f} ms  ({s['min_ms']:.1f}..{s['max_ms']:.1f})")
    row("s3doctor / boto3", f"{r_boto3:.3f}  (1/{1 / r_boto3:.1f}; goal <= 1/4)   {word(c['pass_boto3'])}")
    row("s3doctor / CLI", f"{r_cli:.4f}  (1/{1 / r_cli:.1f}; goal <= 1/30)  {word(c['pass_cli'])}")
    row("s3doctor steps (first run)", ", ".join(steps) or "?")
    print()
    s20 = results["buckets_20"]["s3doctor"]
    row("s3doctor, 20 buckets (median)", f"{s20['median_ms']:.1f} ms  ({s20['min_ms']:.1f}..{s20['max_ms']:.1f})")
    row("s3doctor, 1 bucket (median)", f"{c['s3doctor']['median_ms']:.1f} ms")
    row("ratio 20 buckets / 1 bucket", f"{r_20:.2f}x  (20x would be sequential)")
    print()
    row("peak RSS, 1 bucket", f"{rss1} KiB ({rss1 / 1024:.1f} MiB)  [{rss_how}]")
    row("peak RSS, 20 buckets", f"{rss20} KiB ({rss20 / 1024:.1f} MiB)")
    row("AWS calls (HTTP attempts), 1 bucket", f"{calls1['total']}  {calls1['by_operation']}")
    row("  by HTTP status", f"{calls1['by_status']}")
    row("AWS calls (HTTP attempts), 20 buckets", f"{calls20['total']}  {calls20['by_operation']}")
    row("  by HTTP status", f"{calls20['by_status']}")
    print()
    w = results["wizard_first_frame"]
    row(f"wizard first frame (median of {WIZARD_RUNS})", f"{w['s3doctor']['median_ms']:.1f} ms  ({w['s3doctor']['min_ms']:.1f}..{w['s3doctor']['max_ms']:.1f})")
    row("  tmux + shell alone (same method)", f"{w['tmux_shell_baseline']['median_ms']:.1f} ms  (the overhead included above)")
    print()
    row("secrets seen in any output/log/screen", ", ".join(results["secrets_seen_in_output"]) or "none")
    print()

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        say(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
