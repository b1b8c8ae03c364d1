// The architecture as rules (`npm run lint:deps`) and the source of the picture and the table of
// layers in docs/architecture.md (`npm run arch:graph`). src/ is made of modules (a folder, or a file at the top of src/) in
// layers: a module imports only from the layers below it and from its own files. The layers, from
// the bottom:
/** @type {Array<{ name: string, modules: string[], comment: string }>} */
const layers = [
  {
    name: "foundation",
    modules: ["db", "common", "auth", "config.ts", "logger.ts"],
    comment: "tables, the database, request context, errors, ids, relay, the access policy",
  },
  { name: "centers", modules: ["centers"], comment: "the unit of tenancy" },
  { name: "center data", modules: ["staff", "programs", "participants"], comment: "what a center has" },
  { name: "groups", modules: ["groups"], comment: "a program run on a schedule" },
  { name: "group data", modules: ["sessions", "enrollments"], comment: "what a group has" },
  { name: "attendance", modules: ["attendance"], comment: "a participant at a session" },
  { name: "coordination", modules: ["scheduling"], comment: "rules that span the modules below" },
  // Every other folder of src/ is a feature (engagement, followups, milestones, mentorships,
  // recoverycapital, apiclients, consents, feed, audit, exports, ...): features may import each
  // other, without circles.
  { name: "features", modules: [], comment: "features built on the core (any other folder of src/)" },
  {
    name: "composition",
    modules: ["node", "modules.ts", "loaders.ts", "steps.ts", "schema.ts", "server.ts", "index.ts", "scripts", "graphiql.ts"],
    comment: "wires the modules into the app (the list of modules, the loaders, the schema, `node`) and the scripts",
  },
];

const esc = (m) => m.replace(/\./g, "\\.");
/** A path pattern matching the files of the given modules. */
const modulePaths = (modules) => `^src/(${modules.map((m) => (m.endsWith(".ts") ? esc(m) + "$" : esc(m) + "/")).join("|")})`;
const named = layers.flatMap((l) => l.modules);
const folders = named.filter((m) => !m.endsWith(".ts"));
/** Files of src/ in a folder that no layer names: the features. */
const featurePath = `^src/(?!(${folders.join("|")})/)[^/]+/`;
const pathOf = (layer) => (layer.name === "features" ? featurePath : modulePaths(layer.modules));

const layerRules = layers.flatMap((layer, i) => {
  const above = layers.slice(i + 1);
  if (!above.length) return [];
  const rules = [
    {
      name: `layer-${layer.name}`,
      comment: `${layer.name} (${layer.modules.join(", ") || "features"}) imports only from the layers below it: ${
        layers
          .slice(0, i)
          .map((l) => l.name)
          .join(", ") || "none"
      }`,
      severity: "error",
      from: { path: pathOf(layer) },
      to: {
        path: above.map(pathOf),
        // The request context names the type of every module's loaders (erased at build): the one
        // upward import, type-only.
        ...(layer.name === "foundation" ? { pathNot: "^src/loaders\\.ts$" } : {}),
      },
    },
  ];
  // Modules of one layer do not import each other (so modules form no circle); features may.
  const folderModules = layer.modules.filter((m) => !m.endsWith(".ts"));
  if (i > 0 && folderModules.length > 1) {
    rules.push({
      name: `layer-${layer.name}-siblings`,
      comment: `the modules of ${layer.name} (${folderModules.join(", ")}) do not import each other`,
      severity: "error",
      from: { path: `^src/(${folderModules.join("|")})/` },
      to: { path: `^src/(${folderModules.join("|")})/`, pathNot: "^src/$1/" },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration & { layers?: unknown }} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Files import each other in a circle: move what both need down a layer, or hand a step up (src/common/steps.ts).",
      severity: "error",
      from: {},
      // A circle closed only by a type-only import (the request context naming the loaders' type)
      // is erased at build and cannot misorder module loading; every other circle fails.
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "layer-foundation-context-type-only",
      comment: "The request context may name the loaders' type (src/loaders.ts), nothing else of it.",
      severity: "error",
      from: { path: "^src/common/context\\.ts$" },
      to: { path: "^src/loaders\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "foundation-not-to-context-type",
      comment: "Only the request context (src/common/context.ts) may name the loaders' type.",
      severity: "error",
      from: { path: modulePaths(layers[0].modules), pathNot: "^src/common/context\\.ts$" },
      to: { path: "^src/loaders\\.ts$" },
    },
    ...layerRules,
    {
      name: "src-not-to-test",
      comment: "The application does not depend on its tests.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^test/" },
    },
    {
      name: "not-to-undeclared-package",
      comment: "Imports a package that package.json does not declare.",
      severity: "error",
      from: {},
      to: { dependencyTypes: ["npm-no-pkg", "npm-unknown"] },
    },
    {
      name: "src-not-to-dev-dependency",
      comment: "The application imports a devDependency, which `npm ci --omit=dev` does not install.",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "not-to-unresolvable",
      comment: "Imports something that does not resolve.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|data)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
    cache: false,
  },
};

// For the picture (.ci/arch-graph.mjs); not part of dependency-cruiser's configuration.
Object.defineProperty(module.exports, "layers", { value: layers, enumerable: false });
