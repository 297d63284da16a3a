// Node module hooks: load the add-in's browser modules the way xlwings-server serves them.
//
// xlwings-server serves /static/ from two folders, the project's first (planvalidator's
// addin/files/static) and its package's second (OverridableStaticFiles in xlwings_server/main.py).
// These hooks give the page's ES modules the same view: an import under either folder resolves
// to the project's file if there is one, else to the package's. The files are plain browser
// modules with a .js suffix and no package.json saying so, hence the "module" format.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

let roots = []; // absolute folder paths, first wins

export async function initialize(data) {
  roots = data.roots.map((r) => path.resolve(r));
}

function underRoot(file) {
  for (const root of roots) {
    const rel = path.relative(root, file);
    if (rel && !rel.startsWith("..") && !path.isAbsolute(rel)) return rel;
  }
  return null;
}

export function overlay(rel) {
  for (const root of roots) {
    const candidate = path.join(root, rel);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL && context.parentURL.startsWith("file:") ? context.parentURL : null;
  if (parent && (specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/"))) {
    const parentFile = fileURLToPath(parent);
    if (underRoot(parentFile) !== null) {
      const target = fileURLToPath(new URL(specifier, parent));
      const rel = underRoot(target);
      const found = rel !== null ? overlay(rel) : null;
      if (!found) throw new Error(`static_hooks: ${specifier} (from ${parentFile}) is served by neither folder`);
      return { url: pathToFileURL(found).href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith("file:")) {
    const file = fileURLToPath(url);
    if (underRoot(file) !== null) {
      return { format: "module", source: readFileSync(file, "utf8"), shortCircuit: true };
    }
  }
  return nextLoad(url, context);
}
