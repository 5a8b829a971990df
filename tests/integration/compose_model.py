# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# compose_model.py CONFIG DOCKERFILE OUT SUBNET_PREFIX VOLUMES
#
# What compose_test.sh runs, read from the two files a deployment is made
# of: CONFIG is the output of `docker-compose config` (YAML, variables
# interpolated, env_file merged), DOCKERFILE the image's Dockerfile. It
# writes, under OUT, plain files the test reads with shell builtins:
#
#   image/env           the final stage's ENV, NUL-separated KEY=VALUE
#   image/entrypoint    ENTRYPOINT, NUL-separated ("" when none);
#   image/entrypoint_form  exec or shell
#   image/cmd           CMD, NUL-separated
#   image/user, image/stopsignal, image/expose (lines), image/volumes
#   image/healthcheck   NUL-separated test ("" when none)
#   image/packages.STAGE  the packages each stage's apt-get install names,
#                       one a line (STAGE: the stage's name, or "final")
#   networks            the networks, one a line, with a subnet each
#                       (NAME SUBNET_PREFIX.K, a /24): bridge K of the test
#   services            the services in start order (depends_on first)
#   svc/NAME/...        for each service:
#     env               image ENV then the service's environment, with
#                       volume paths mapped (below), NUL-separated
#     command           entrypoint + command, paths mapped, NUL-separated
#     health            the healthcheck test as argv (CMD-SHELL: sh -c),
#                       NUL-separated; absent when there is none
#     health_wait_s     how long Docker takes to call it unhealthy:
#                       start_period + retries * (interval + timeout)
#     grace_s           stop_grace_period in seconds (Docker's default 10)
#     stop_signal       stop_signal, else the image's, else SIGTERM
#     depends           NAME CONDITION lines
#     addrs             NETWORK ADDRESS lines (one per network)
#     hosts             the /etc/hosts Docker's DNS stands for: every
#                       service's name and aliases at its address on a
#                       network shared with this one
#     ports             HOST_IP PUBLISHED TARGET PROTOCOL lines
#     mounts            TYPE CONTAINER_PATH HOST_PATH lines
#
# Paths: a bind mount's target stands for its host source; a named volume
# for VOLUMES/NAME (one directory per volume, shared by the services that
# mount it, and kept from one model to the next as Docker keeps volumes);
# a tmpfs, or an image VOLUME no mount covers, for VOLUMES/SERVICE.anon.K.
# An environment value or command argument
# equal to a mount target, or under one, is rewritten to the host path:
# the processes run on this host, not in the image's file system.
import json
import os
import re
import shlex
import sys

import yaml


def die(msg):
    print("compose_model: " + msg, file=sys.stderr)
    sys.exit(1)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def write_nul(path, items):
    write(path, "".join(str(i) + "\0" for i in items))


def write_lines(path, lines):
    write(path, "".join(str(line) + "\n" for line in lines))


# duration_s reads a Docker duration ("1m30s", "500ms", "10s", or a
# number of seconds) as seconds.
def duration_s(text, default):
    if text is None:
        return default
    if isinstance(text, (int, float)):
        return float(text)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        die("cannot read the duration %r" % text)
    return total


# dockerfile_instructions splits a Dockerfile into (KEYWORD, text) pairs:
# continuation lines joined, comments dropped.
def dockerfile_instructions(path):
    out, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.strip().startswith("#"):
                continue  # comments, inside continuations too
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            if cur.strip():
                word, _, rest = cur.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            cur = ""
    if cur.strip():
        die("%s ends inside a continued line" % path)
    return out


# exec_or_shell reads an ENTRYPOINT, CMD or HEALTHCHECK CMD argument.
def exec_or_shell(text):
    if text.startswith("["):
        return json.loads(text), "exec"
    return ["/bin/sh", "-c", text], "shell"


# apt_packages lists what the `apt-get install` commands of a RUN name.
def apt_packages(run):
    words = shlex.split(run)
    pkgs, i = [], 0
    while i < len(words):
        if words[i] == "apt-get" and "install" in words[i + 1 : i + 6]:
            i = words.index("install", i) + 1
            while i < len(words) and words[i] not in ("&&", ";", "||"):
                if not words[i].startswith("-"):
                    pkgs.append(words[i])
                i += 1
        i += 1
    return pkgs


def read_dockerfile(path):
    stages, img = [], None
    for word, rest in dockerfile_instructions(path):
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            if m is None:
                die("%s: cannot read FROM %s" % (path, rest))
            img = {
                "name": m.group(2) or "",
                "env": {},
                "entrypoint": [],
                "entrypoint_form": "",
                "cmd": [],
                "user": "",
                "stopsignal": "",
                "expose": [],
                "volumes": [],
                "healthcheck": None,
                "packages": [],
            }
            stages.append(img)
        elif img is None:
            if word != "ARG":
                die("%s: %s before FROM" % (path, word))
        elif word == "ENV":
            words = shlex.split(rest)
            if words and "=" not in words[0]:
                img["env"][words[0]] = rest.split(None, 1)[1]
            else:
                for w in words:
                    k, _, v = w.partition("=")
                    img["env"][k] = v
        elif word == "ENTRYPOINT":
            img["entrypoint"], img["entrypoint_form"] = exec_or_shell(rest)
            img["cmd"] = []  # Docker resets CMD with ENTRYPOINT
        elif word == "CMD":
            img["cmd"], _ = exec_or_shell(rest)
        elif word == "USER":
            img["user"] = rest
        elif word == "STOPSIGNAL":
            img["stopsignal"] = rest
        elif word == "EXPOSE":
            img["expose"] += rest.split()
        elif word == "VOLUME":
            img["volumes"] += json.loads(rest) if rest.startswith("[") else rest.split()
        elif word == "HEALTHCHECK":
            words = rest.split()
            opts = {}
            while words and words[0].startswith("--"):
                k, _, v = words.pop(0)[2:].partition("=")
                opts[k.replace("-", "_")] = v
            if words and words[0].upper() == "NONE":
                img["healthcheck"] = None
            elif words and words[0].upper() == "CMD":
                cmd = rest.split("CMD", 1)[1].strip()
                test, form = exec_or_shell(cmd)
                opts["test"] = (["CMD"] + test) if form == "exec" else ["CMD-SHELL", cmd]
                img["healthcheck"] = opts
            else:
                die("%s: cannot read HEALTHCHECK %s" % (path, rest))
        elif word == "RUN":
            img["packages"] += apt_packages(rest)
    if not stages:
        die("%s has no FROM" % path)
    return stages


# start_order sorts the services so that each comes after what it
# depends on (then by name), as docker-compose starts them.
def start_order(services):
    done, order = set(), []

    def visit(name, path):
        if name in done:
            return
        if name in path:
            die("depends_on cycle: " + " -> ".join(path + [name]))
        for dep in sorted(deps(services[name])):
            if dep not in services:
                die("%s depends on %s, which is no service" % (name, dep))
            visit(dep, path + [name])
        done.add(name)
        order.append(name)

    for name in sorted(services):
        visit(name, [])
    return order


def deps(svc):
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        return {n: "service_started" for n in d}
    return {n: (c or {}).get("condition", "service_started") for n, c in d.items()}


def networks_of(svc):
    n = svc.get("networks")
    if n is None:
        return {"default": {}}
    if isinstance(n, list):
        return {k: {} for k in n}
    return {k: (v or {}) for k, v in n.items()}


def environment(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        out = {}
        for item in e:
            k, eq, v = item.partition("=")
            if eq:  # "KEY" alone passes the caller's value: none here
                out[k] = v
        return out
    return {k: "" if v is None else str(v) for k, v in e.items()}


# mounts lists a service's (type, target, source) with source as compose
# wrote it; short forms "SRC:DST[:MODE]" are read too.
def mounts(svc):
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) == 1:
                out.append(("volume", parts[0], ""))
            else:
                kind = "bind" if parts[0].startswith(("/", ".", "~")) else "volume"
                out.append((kind, parts[1], parts[0]))
        else:
            out.append((v.get("type", "volume"), v["target"], v.get("source", "")))
    for t in svc.get("tmpfs") or []:
        out.append(("tmpfs", t if isinstance(t, str) else t["target"], ""))
    return out


# ports lists (host_ip, published, target, protocol) from the long or the
# short form ("[IP:][PUBLISHED:]TARGET[/PROTO]").
def ports(svc):
    out = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            out.append(
                (
                    p.get("host_ip", "0.0.0.0"),
                    str(p.get("published", "")),
                    str(p["target"]),
                    p.get("protocol", "tcp"),
                )
            )
            continue
        spec, _, proto = str(p).partition("/")
        parts = spec.rsplit(":", 2)
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2], proto or "tcp"))
        elif len(parts) == 2:
            out.append(("0.0.0.0", parts[0], parts[1], proto or "tcp"))
        else:
            out.append(("0.0.0.0", "", parts[0], proto or "tcp"))
    return out


def map_path(value, table):
    for target, host in table:
        if value == target:
            return host
        if value.startswith(target.rstrip("/") + "/"):
            return host + value[len(target.rstrip("/")) :]
    return value


def main():
    if len(sys.argv) != 6:
        die("usage: compose_model.py CONFIG DOCKERFILE OUT SUBNET_PREFIX VOLUMES")
    config, dockerfile, out, prefix, volumes = sys.argv[1:6]
    with open(config) as f:
        doc = yaml.safe_load(f)
    services = doc.get("services") or {}
    if not services:
        die("%s has no services" % config)

    stages = read_dockerfile(dockerfile)
    image = stages[-1]
    write_nul(out + "/image/env", ["%s=%s" % kv for kv in image["env"].items()])
    write_nul(out + "/image/entrypoint", image["entrypoint"])
    write(out + "/image/entrypoint_form", image["entrypoint_form"])
    write_nul(out + "/image/cmd", image["cmd"])
    write(out + "/image/user", image["user"])
    write(out + "/image/stopsignal", image["stopsignal"])
    write_lines(out + "/image/expose", image["expose"])
    write_lines(out + "/image/volumes", image["volumes"])
    hc = image["healthcheck"]
    write_nul(out + "/image/healthcheck", hc["test"] if hc else [])
    for i, st in enumerate(stages):
        name = "final" if i == len(stages) - 1 else (st["name"] or str(i))
        write_lines(out + "/image/packages." + name, st["packages"])

    nets = sorted({n for s in services.values() for n in networks_of(s)})
    if len(nets) > 200:
        die("too many networks")
    subnet = {n: "%s.%d" % (prefix, k) for k, n in enumerate(nets)}
    write_lines(out + "/networks", ["%s %s" % (n, subnet[n]) for n in nets])

    order = start_order(services)
    write_lines(out + "/services", order)

    # Addresses: .1 is each bridge's gateway, the services follow.
    addr = {}
    for k, name in enumerate(order):
        if k + 2 > 254:
            die("too many services")
        for n in networks_of(services[name]):
            addr[(name, n)] = "%s.%d" % (subnet[n], k + 2)

    for name in order:
        svc = services[name]
        d = "%s/svc/%s" % (out, name)
        os.makedirs(d, exist_ok=True)

        table = []
        for kind, target, source in mounts(svc):
            if kind == "bind":
                host = source
            elif kind == "volume" and source:
                host = "%s/%s" % (volumes, source)
            else:
                host = "%s/%s.anon.%d" % (volumes, name, len(table))
            if kind != "bind":
                os.makedirs(host, exist_ok=True)
            table.append((target, host))
        for target in image["volumes"]:
            if all(t != target for t, _ in table):
                host = "%s/%s.anon.%d" % (volumes, name, len(table))
                os.makedirs(host, exist_ok=True)
                table.append((target, host))
        table.sort(key=lambda th: -len(th[0]))  # the deepest target first
        write_lines(
            d + "/mounts",
            ["%s %s %s" % (k, t, dict(table)[t]) for k, t, _ in mounts(svc)],
        )

        env = dict(image["env"])
        env.update(environment(svc))
        write_nul(d + "/env", ["%s=%s" % (k, map_path(v, table)) for k, v in env.items()])

        entry = svc.get("entrypoint")
        if entry is None:
            entry = image["entrypoint"]
        elif isinstance(entry, str):
            entry = shlex.split(entry)
        cmd = svc.get("command")
        if cmd is None:
            cmd = image["cmd"] if svc.get("entrypoint") is None else []
        elif isinstance(cmd, str):
            cmd = shlex.split(cmd)
        argv = [map_path(a, table) for a in list(entry) + list(cmd)]
        if not argv:
            die("service %s runs nothing (no entrypoint or command)" % name)
        write_nul(d + "/command", argv)

        check = svc.get("healthcheck")
        if check is None:
            check = image["healthcheck"]
        if check and not check.get("disable") and check.get("test"):
            test = check["test"]
            if isinstance(test, str):
                test = ["CMD-SHELL", test]
            if test[0] == "CMD":
                write_nul(d + "/health", test[1:])
            elif test[0] == "CMD-SHELL":
                write_nul(d + "/health", ["sh", "-c", " ".join(test[1:])])
            elif test[0] != "NONE":
                die("service %s: healthcheck test %r" % (name, test))
            wait = duration_s(check.get("start_period"), 0) + int(
                check.get("retries", 3)
            ) * (duration_s(check.get("interval"), 30) + duration_s(check.get("timeout"), 30))
            write(d + "/health_wait_s", "%d\n" % max(1, round(wait)))

        write(d + "/grace_s", "%d\n" % round(duration_s(svc.get("stop_grace_period"), 10)))
        write(
            d + "/stop_signal",
            (svc.get("stop_signal") or image["stopsignal"] or "SIGTERM") + "\n",
        )
        write_lines(d + "/depends", ["%s %s" % kv for kv in sorted(deps(svc).items())])
        mine = networks_of(svc)
        write_lines(d + "/addrs", ["%s %s" % (n, addr[(name, n)]) for n in sorted(mine)])
        write_lines(d + "/ports", [" ".join(p) for p in ports(svc)])

        hosts = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
        for other in order:
            shared = [n for n in sorted(networks_of(services[other])) if n in mine]
            if not shared:
                continue
            n = shared[0]
            names = [other]
            for alias in networks_of(services[other])[n].get("aliases") or []:
                names.append(alias)
            for key in ("hostname", "container_name"):
                if services[other].get(key):
                    names.append(services[other][key])
            hosts.append("%s\t%s" % (addr[(other, n)], " ".join(dict.fromkeys(names))))
        write_lines(d + "/hosts", hosts)


if __name__ == "__main__":
    main()
