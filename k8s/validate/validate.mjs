#!/usr/bin/env node
// Validates the Kubernetes manifests: every kustomize overlay under k8s/overlays/
// (rendered with `kubectl kustomize`), the plain manifests k8s/*.yaml, or the files and
// overlay directories given as arguments. Each overlay or file is a bundle: the
// references below are resolved inside it.
//
//  0. that every overlay renders;
//  1. every YAML document against its kubernetes-models class
//     (new Deployment(obj).validate(), new ConfigMap(obj).validate(), ...), chosen by
//     apiVersion and kind;
//  2. every Outrigger config embedded in a ConfigMap with `outrigger validate --config`:
//     for each Outrigger container (one whose args hold --config, or whose image is
//     named outrigger) the --config paths are followed through its volumeMounts to the
//     ConfigMap key, and the config is validated with the container's env (Downward
//     API values replaced by samples). ConfigMaps no container uses are validated when
//     they look like Outrigger configs (a top-level `service:` with `pipelines:`);
//  3. that the kubelet can reach what it probes: each httpGet probe of an Outrigger
//     container must hit a health_check extension's port and path on a non-loopback
//     address, and a prometheus.io/port annotation naming the port of
//     service.telemetry.metrics.address needs a non-loopback address too;
//  4. that a ConfigMap annotated `outrigger.dev/source: <path>` holds exactly that
//     file of the repository;
//  5. the cross-references: every volumeMount names a volume; configMap volumes and
//     configMapKeyRef env name a ConfigMap of the bundle and its keys; named probe
//     ports exist; a Service selects a workload of the bundle whose containers have its
//     targetPorts; HPA targets and PDB selectors exist; serviceAccountName, and the
//     roles and ServiceAccounts of (Cluster)RoleBindings, are in the bundle.
//
// Usage (from the repository root):
//   npm --prefix k8s/validate ci        # or `npm install` once
//   OUTRIGGER_BIN=build/outrigger node k8s/validate/validate.mjs [FILE.yaml|DIR...]
// OUTRIGGER_BIN defaults to <repo>/build/outrigger. Exit status: 0 all valid, 1 some
// check failed, 2 cannot run (no files, no binary, npm dependencies not installed).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The npm dependencies (k8s/validate/package.json), installed by `npm ci`.
let parse, parseAllDocuments;
try {
  ({ parse, parseAllDocuments } = await import("yaml"));
  await import("kubernetes-models/v1");
} catch {
  console.error("k8s/validate: dependencies missing; run `npm ci --prefix k8s/validate` first");
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const k8sDir = resolve(here, "..");
const repoDir = resolve(k8sDir, "..");
const bin = resolve(process.env.OUTRIGGER_BIN || join(repoDir, "build", "outrigger"));

let failures = 0;
let checks = 0;
const rel = (p) => relative(process.cwd(), p) || p;
function ok(what) {
  checks++;
  console.log(`ok    ${what}`);
}
function fail(what, why) {
  checks++;
  failures++;
  const lines = String(why).trimEnd().split("\n");
  console.log(`FAIL  ${what}: ${lines[0]}`);
  for (const l of lines.slice(1)) console.log(`        ${l}`);
}

// ---------------------------------------------------------------- inputs

// Bundles: {name, docs: [{file, index, obj}]}.
const args = process.argv.slice(2).map((f) => resolve(f));
const overlayRoot = join(k8sDir, "overlays");
const inputs = args.length
  ? args
  : [
      ...(existsSync(overlayRoot)
        ? readdirSync(overlayRoot)
            .sort()
            .map((d) => join(overlayRoot, d))
            .filter((d) => existsSync(join(d, "kustomization.yaml")))
        : []),
      // The dashboards as ConfigMaps for Grafana's sidecar (dashboards/kustomization.yaml).
      ...(existsSync(join(repoDir, "dashboards", "kustomization.yaml")) ? [join(repoDir, "dashboards")] : []),
      ...readdirSync(k8sDir)
        .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
        .sort()
        .map((f) => join(k8sDir, f)),
    ];
if (inputs.length === 0) {
  console.error(`no manifests found in ${k8sDir}`);
  process.exit(2);
}
if (!existsSync(bin)) {
  console.error(`outrigger binary not found at ${bin}; set OUTRIGGER_BIN`);
  process.exit(2);
}

function parseDocs(text, file, docs) {
  let parsed;
  try {
    parsed = parseAllDocuments(text, { prettyErrors: true });
  } catch (e) {
    fail(rel(file), e.message);
    return;
  }
  if (!Array.isArray(parsed)) parsed = [parsed]; // an empty stream
  parsed.forEach((doc, index) => {
    const where = `${rel(file)}#${index}`;
    if (doc.errors.length) {
      fail(where, doc.errors.map((e) => e.message).join("\n"));
      return;
    }
    for (const w of doc.warnings) console.log(`warn  ${where}: ${w.message}`);
    const obj = doc.toJS({ maxAliasCount: 100 });
    if (obj === null || obj === undefined) return; // an empty document
    docs.push({ file, index, obj });
  });
}

const bundles = [];
for (const input of inputs) {
  const docs = [];
  if (statSync(input).isDirectory()) {
    const r = spawnSync("kubectl", ["kustomize", input], { encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.error) {
      fail(`${rel(input)}: kubectl kustomize`, `${r.error.message} (kubectl renders the overlays; install it)`);
      continue;
    }
    if (r.status !== 0) {
      fail(`${rel(input)}: kubectl kustomize`, r.stderr || `exit status ${r.status}`);
      continue;
    }
    ok(`${rel(input)}: kubectl kustomize renders`);
    parseDocs(r.stdout, input, docs);
  } else {
    parseDocs(readFileSync(input, "utf8"), input, docs);
  }
  bundles.push({ name: rel(input), docs });
}
const allDocs = bundles.flatMap((b) => b.docs.map((d) => ({ ...d, bundle: b })));

const nameOf = (d) =>
  `${d.bundle?.name ?? rel(d.file)}: ${d.obj.kind} ${d.obj.metadata?.namespace ? d.obj.metadata.namespace + "/" : ""}${d.obj.metadata?.name}`;

// ---------------------------------------------------------------- 1. schemas

const moduleCache = new Map();
async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  if (!moduleCache.has(apiVersion)) {
    moduleCache.set(
      apiVersion,
      await import(`kubernetes-models/${apiVersion}`).catch(() => null),
    );
  }
  const mod = moduleCache.get(apiVersion);
  return mod && typeof mod[kind] === "function" ? mod[kind] : null;
}

for (const d of allDocs) {
  const { apiVersion, kind } = d.obj;
  const Model = await modelFor(apiVersion, kind);
  if (!Model) {
    fail(nameOf(d), `no kubernetes-models class for apiVersion "${apiVersion}", kind "${kind}"`);
    continue;
  }
  try {
    new Model(d.obj).validate();
    ok(nameOf(d));
  } catch (e) {
    fail(nameOf(d), e.message);
  }
}

// ---------------------------------------------------------------- helpers

// ${env:VAR}, ${VAR}, ${env:VAR:-default}, $$ -- as Outrigger expands them.
function expandEnv(s, env) {
  return s.replace(/\$\$|\$\{([^}]*)\}/g, (m, ref) => {
    if (m === "$$") return "$";
    let name = ref.startsWith("env:") ? ref.slice(4) : ref;
    let def;
    const p = name.indexOf(":-");
    if (p >= 0) {
      def = name.slice(p + 2);
      name = name.slice(0, p);
    }
    const v = env[name];
    if (v !== undefined && (v !== "" || def === undefined)) return v;
    return def ?? "";
  });
}
function expandAll(node, env) {
  if (typeof node === "string") return expandEnv(node, env);
  if (Array.isArray(node)) return node.map((n) => expandAll(n, env));
  if (node && typeof node === "object") {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, expandAll(v, env)]));
  }
  return node;
}
// Outrigger's merge of several --config files: mappings merge, the rest is replaced.
function merge(base, over) {
  if (!isMap(base) || !isMap(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out;
}
const isMap = (x) => x !== null && typeof x === "object" && !Array.isArray(x);

function hostPort(endpoint) {
  const i = endpoint.lastIndexOf(":");
  if (i < 0) return null;
  let host = endpoint.slice(0, i);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host, port: Number(endpoint.slice(i + 1)) };
}
// Where Outrigger would not be reachable from the kubelet or Prometheus.
const isLoopback = (host) =>
  host === "" || host === "localhost" || host === "::1" || /^127\./.test(host);

function podTemplate(obj) {
  switch (obj.kind) {
    case "Pod":
      return obj;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      return obj.spec?.template;
    case "CronJob":
      return obj.spec?.jobTemplate?.spec?.template;
    default:
      return null;
  }
}

function configArgs(c) {
  const args = [...(c.command ?? []), ...(c.args ?? [])];
  const out = [];
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === "--config" || args[i] === "-c") && i + 1 < args.length) out.push(args[++i]);
    else if (String(args[i]).startsWith("--config=")) out.push(args[i].slice("--config=".length));
  }
  return out;
}
const isOutrigger = (c) =>
  configArgs(c).length > 0 || /(^|\/)outrigger(:|@|$)/.test(String(c.image ?? ""));

// The container's environment as Kubernetes would set it; Downward API fields get
// sample values.
function containerEnv(c, pod, ns) {
  const samples = {
    "metadata.name": `${pod.metadata?.name ?? "example"}-7d9f8b6c5-x2x4z`,
    "metadata.namespace": ns ?? "default",
    "metadata.uid": "00000000-0000-0000-0000-000000000000",
    "spec.nodeName": "node-1",
    "spec.serviceAccountName": "default",
    "status.hostIP": "10.0.0.1",
    "status.podIP": "10.244.0.10",
  };
  const env = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = String(e.value).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n) =>
        m === "$$" ? "$" : n in env ? env[n] : m,
      );
    } else if (e.valueFrom?.fieldRef) {
      env[e.name] = samples[e.valueFrom.fieldRef.fieldPath] ?? "placeholder";
    } else if (e.valueFrom?.resourceFieldRef) {
      env[e.name] = "1";
    } else {
      env[e.name] = "placeholder"; // secretKeyRef, configMapKeyRef
    }
  }
  return env;
}

// The ConfigMap `name` in namespace `ns`, preferably from the workload's own file.
function findConfigMap(name, ns, bundle) {
  const matches = bundle.docs.filter(
    (d) =>
      d.obj.kind === "ConfigMap" &&
      d.obj.metadata?.name === name &&
      (d.obj.metadata?.namespace ?? null) === (ns ?? null),
  );
  return matches[0];
}

// Follows `path` through the container's mounts to a ConfigMap key: {text, where} or
// {error}.
function resolveConfigFile(path, c, spec, ns, bundle) {
  const mounts = (c.volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/$/, "") + "/"))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const m = mounts[0];
  if (!m) return { error: `no volumeMount of the container holds ${path}` };
  const vol = (spec.volumes ?? []).find((v) => v.name === m.name);
  if (!vol) return { error: `volumeMount "${m.name}" has no volume` };
  if (!vol.configMap) return { error: `volume "${vol.name}" of ${path} is not a configMap volume` };
  let inVolume = path === m.mountPath ? "" : path.slice(m.mountPath.replace(/\/$/, "").length + 1);
  if (m.subPath) inVolume = inVolume ? `${m.subPath}/${inVolume}` : m.subPath;
  let key = inVolume;
  if (vol.configMap.items) {
    const item = vol.configMap.items.find((i) => i.path === inVolume);
    if (!item) return { error: `configMap volume "${vol.name}" has no item with path "${inVolume}"` };
    key = item.key;
  }
  const cm = findConfigMap(vol.configMap.name, ns, bundle);
  if (!cm) return { error: `ConfigMap "${vol.configMap.name}" is not in the manifests` };
  const text = cm.obj.data?.[key];
  if (typeof text !== "string") return { error: `ConfigMap "${vol.configMap.name}" has no key "${key}"` };
  return { text, cm, key, where: `ConfigMap ${vol.configMap.name} key ${key}` };
}

// Runs `outrigger validate` on config texts (merged in order) with `env`.
function outriggerValidate(texts, env) {
  const dir = mkdtempSync(join(tmpdir(), "outrigger-k8s-"));
  try {
    const args = ["validate"];
    texts.forEach((t, i) => {
      const f = join(dir, `config-${i}.yaml`);
      writeFileSync(f, t);
      args.push("--config", f);
    });
    const r = spawnSync(bin, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      encoding: "utf8",
    });
    if (r.error) return { ok: false, out: r.error.message };
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let defaultConfig;
function embeddedDefault() {
  if (defaultConfig === undefined) {
    const r = spawnSync(bin, ["print-default-config"], { encoding: "utf8" });
    defaultConfig = r.status === 0 ? r.stdout : "";
  }
  return defaultConfig;
}

// Checks 3: the probes and the Prometheus port against the merged, expanded config.
function reachability(c, pod, config, what) {
  const problems = [];
  const exts = isMap(config.extensions) ? config.extensions : {};
  const enabled = Array.isArray(config.service?.extensions) ? config.service.extensions : [];
  const health = enabled
    .filter((id) => id === "health_check" || String(id).startsWith("health_check/"))
    .map((id) => {
      const e = isMap(exts[id]) ? exts[id] : {};
      return {
        id,
        ...hostPort(String(e.endpoint ?? "127.0.0.1:13133")),
        paths: [String(e.path ?? "/"), String(e.liveness_path ?? "/live")],
      };
    });
  const portNumber = (p) =>
    typeof p === "number" ? p : (c.ports ?? []).find((x) => x.name === p)?.containerPort;
  for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"]) {
    const get = c[kind]?.httpGet;
    if (!get) continue;
    const port = portNumber(get.port);
    const path = get.path ?? "/";
    const ext = health.find((h) => h.port === port);
    if (!ext) {
      problems.push(`${kind} probes port ${get.port}, where no health_check extension in service.extensions listens`);
    } else if (isLoopback(ext.host)) {
      problems.push(
        `${kind} probes port ${port}, but extensions.${ext.id}.endpoint listens on ${ext.host || "127.0.0.1"} (loopback): the kubelet cannot reach it; use 0.0.0.0:${port} or the Pod IP`,
      );
    } else if (!ext.paths.includes(path)) {
      problems.push(`${kind} probes path ${path}, but extensions.${ext.id} answers only ${ext.paths.join(" and ")}`);
    }
  }
  const ann = pod.metadata?.annotations ?? {};
  const level = config.service?.telemetry?.metrics?.level;
  const address = String(config.service?.telemetry?.metrics?.address ?? "127.0.0.1:8888");
  if (ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] && level !== "none" && address) {
    const hp = hostPort(address);
    if (hp && String(hp.port) === String(ann["prometheus.io/port"]) && isLoopback(hp.host)) {
      problems.push(
        `prometheus.io/port is ${hp.port}, but service.telemetry.metrics.address is ${address} (loopback): Prometheus cannot scrape it`,
      );
    }
  }
  if (problems.length) fail(what, problems.join("\n"));
  else ok(what);
}

// ---------------------------------------------------------------- 2 + 3. containers

const usedConfigMaps = new Set();
for (const d of allDocs) {
  const tpl = podTemplate(d.obj);
  const spec = tpl?.spec;
  if (!spec) continue;
  const ns = d.obj.metadata?.namespace;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (!isOutrigger(c)) continue;
    const what = `${nameOf(d)} container ${c.name}`;
    const env = containerEnv(c, d.obj, ns);
    const paths = configArgs(c);
    const texts = [];
    let resolved = true;
    for (const p of paths) {
      const r = resolveConfigFile(p, c, spec, ns, d.bundle);
      if (r.error) {
        fail(`${what} --config ${p}`, r.error);
        resolved = false;
      } else {
        texts.push(r.text);
        usedConfigMaps.add(r.cm);
      }
    }
    if (!resolved) continue;
    const label = paths.length ? `--config ${paths.join(" --config ")}` : "(embedded default config)";
    const v = outriggerValidate(paths.length ? texts : [embeddedDefault()], env);
    if (!v.ok) {
      fail(`${what} ${label}: outrigger validate`, v.out);
      continue;
    }
    ok(`${what} ${label}: outrigger validate`);
    let config = {};
    for (const t of paths.length ? texts : [embeddedDefault()]) config = merge(config, parse(t) ?? {});
    reachability(c, tpl, expandAll(config, env), `${what}: probes and scrape port reach Outrigger`);
  }
}

// ---------------------------------------------------------------- 2 + 4. ConfigMaps

for (const d of allDocs) {
  if (d.obj.kind !== "ConfigMap") continue;
  const data = d.obj.data ?? {};
  const source = d.obj.metadata?.annotations?.["outrigger.dev/source"];
  if (source) {
    const key = "config.yaml" in data ? "config.yaml" : Object.keys(data)[0];
    const file = resolve(repoDir, source);
    if (!existsSync(file)) fail(`${nameOf(d)} outrigger.dev/source`, `${source} does not exist`);
    else if (readFileSync(file, "utf8") !== data[key])
      fail(`${nameOf(d)} outrigger.dev/source`, `key ${key} differs from ${source}; copy it over again`);
    else ok(`${nameOf(d)} key ${key} is identical to ${source}`);
  }
  if ([...usedConfigMaps].some((u) => u.obj === d.obj)) continue;
  for (const [key, text] of Object.entries(data)) {
    if (!/\.ya?ml$/.test(key)) continue;
    let parsed;
    try {
      parsed = parse(text);
    } catch {
      continue;
    }
    if (!isMap(parsed?.service) || !("pipelines" in parsed.service)) continue;
    const v = outriggerValidate([text], {});
    if (v.ok) ok(`${nameOf(d)} key ${key}: outrigger validate`);
    else fail(`${nameOf(d)} key ${key}: outrigger validate`, v.out);
  }
}

crossReferences();

console.log(`\n${checks - failures} of ${checks} checks passed (${bundles.length} bundles, ${allDocs.length} documents)`);
process.exit(failures ? 1 : 0);

// ---------------------------------------------------------------- 5. cross-references

function crossReferences() {
  const matchesSelector = (labels, sel) =>
    sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels?.[k] === v);
  for (const bundle of bundles) {
    const docs = bundle.docs.map((d) => ({ ...d, bundle }));
    const nsOf = (o) => o.metadata?.namespace ?? null;
    const find = (kind, name, ns) =>
      docs.find((d) => d.obj.kind === kind && d.obj.metadata?.name === name && (ns === undefined || nsOf(d.obj) === ns));
    const workloads = docs.filter((d) => podTemplate(d.obj)?.spec);

    for (const d of workloads) {
      const tpl = podTemplate(d.obj);
      const spec = tpl.spec;
      const ns = nsOf(d.obj);
      const problems = [];
      const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
      const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
      if (d.obj.kind !== "Pod" && !matchesSelector(tpl.metadata?.labels, d.obj.spec?.selector?.matchLabels)) {
        problems.push("spec.selector.matchLabels does not match the Pod template's labels");
      }
      for (const c of containers) {
        for (const m of c.volumeMounts ?? []) {
          if (!volumes.has(m.name)) problems.push(`container ${c.name}: volumeMount "${m.name}" has no volume`);
        }
        const ports = new Set((c.ports ?? []).map((p) => p.name).filter(Boolean));
        for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"]) {
          const port = c[kind]?.httpGet?.port ?? c[kind]?.tcpSocket?.port;
          if (typeof port === "string" && !ports.has(port)) {
            problems.push(`container ${c.name}: ${kind} names port "${port}", which the container does not declare`);
          }
        }
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.configMapKeyRef;
          if (!ref || ref.optional) continue;
          const cm = find("ConfigMap", ref.name, ns);
          if (!cm) problems.push(`container ${c.name}: env ${e.name} names ConfigMap "${ref.name}", not in the bundle`);
          else if (!(ref.key in (cm.obj.data ?? {})))
            problems.push(`container ${c.name}: env ${e.name} names key "${ref.key}" of ConfigMap ${ref.name}, which it lacks`);
        }
      }
      const mounted = new Set(containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
      for (const v of volumes.values()) {
        if (!mounted.has(v.name)) problems.push(`volume "${v.name}" is mounted by no container`);
        if (!v.configMap || v.configMap.optional) continue;
        const cm = find("ConfigMap", v.configMap.name, ns);
        if (!cm) {
          problems.push(`volume "${v.name}" names ConfigMap "${v.configMap.name}", not in the bundle`);
          continue;
        }
        for (const item of v.configMap.items ?? []) {
          if (!(item.key in (cm.obj.data ?? {})))
            problems.push(`volume "${v.name}" names key "${item.key}" of ConfigMap ${v.configMap.name}, which it lacks`);
        }
      }
      const sa = spec.serviceAccountName;
      if (sa && sa !== "default" && !find("ServiceAccount", sa, ns)) {
        problems.push(`serviceAccountName "${sa}" is not a ServiceAccount of the bundle`);
      }
      if (problems.length) fail(`${nameOf(d)}: references`, problems.join("\n"));
      else ok(`${nameOf(d)}: volumes, probe ports, ConfigMaps and ServiceAccount resolve`);
    }

    for (const d of docs) {
      const o = d.obj;
      const ns = nsOf(o);
      const problems = [];
      if (o.kind === "Service") {
        const sel = o.spec?.selector;
        const targets = workloads.filter((w) => nsOf(w.obj) === ns && matchesSelector(podTemplate(w.obj).metadata?.labels, sel));
        if (!targets.length) problems.push(`selector ${JSON.stringify(sel)} matches no workload of the bundle`);
        for (const p of o.spec?.ports ?? []) {
          const tp = p.targetPort ?? p.port;
          for (const w of targets) {
            const cs = [...(podTemplate(w.obj).spec.initContainers ?? []), ...(podTemplate(w.obj).spec.containers ?? [])];
            const has = cs.some((c) =>
              (c.ports ?? []).some((cp) => (typeof tp === "string" ? cp.name === tp : cp.containerPort === tp)),
            );
            if (!has) problems.push(`port ${p.name ?? p.port}: targetPort ${tp} is no container port of ${w.obj.kind} ${w.obj.metadata.name}`);
          }
        }
      } else if (o.kind === "HorizontalPodAutoscaler") {
        const t = o.spec?.scaleTargetRef;
        if (!find(t?.kind, t?.name, ns)) problems.push(`scaleTargetRef ${t?.kind} ${t?.name} is not in the bundle`);
        else if (find(t.kind, t.name, ns).obj.spec?.replicas !== undefined)
          problems.push(`${t.kind} ${t.name} sets spec.replicas, which would fight the autoscaler`);
      } else if (o.kind === "PodDisruptionBudget") {
        const sel = o.spec?.selector?.matchLabels;
        if (!workloads.some((w) => nsOf(w.obj) === ns && matchesSelector(podTemplate(w.obj).metadata?.labels, sel)))
          problems.push(`selector ${JSON.stringify(sel)} matches no workload of the bundle`);
      } else if (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") {
        const r = o.roleRef;
        if (!find(r?.kind, r?.name, r?.kind === "Role" ? ns : undefined))
          problems.push(`roleRef ${r?.kind} ${r?.name} is not in the bundle`);
        for (const s of o.subjects ?? []) {
          if (s.kind === "ServiceAccount" && !find("ServiceAccount", s.name, s.namespace ?? ns))
            problems.push(`subject ServiceAccount ${s.namespace ?? ns}/${s.name} is not in the bundle`);
        }
      } else {
        continue;
      }
      if (problems.length) fail(`${nameOf(d)}: references`, problems.join("\n"));
      else ok(`${nameOf(d)}: references resolve`);
    }
  }
}
